#!/usr/bin/env node
// The published entry (dist/main.js): the smallest file that can turn on Node's compile cache
// before the rest is compiled. On Node 22 and later a cached get-token then compiles almost
// nothing, and a miss skips compiling the full CLI's 2 MB; Node 20 has no compile cache and goes
// on as before. The cache lives in kubelogin's default cache dir (options/resolve.ts
// defaultCacheDir, not imported: its module would double this file), private to the user, not in
// a shared /tmp where another user could plant compiled code.
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

// Asked of Node 22 and later only: on Node 20, loading node:module also loads its ES module loader.
const nodeModule = Number(process.versions.node.split(".")[0]) >= 22 ? process.getBuiltinModule("node:module") : undefined;
const { enableCompileCache } = (nodeModule ?? {}) as { enableCompileCache?: (dir: string) => unknown };
if (enableCompileCache) {
  const dir = join(process.env.KUBECACHEDIR || join(process.env.HOME || homedir(), ".kube/cache/kubelogin"), "node-compile-cache");
  try {
    // 0700 as file-store.ts makes the cache dir; Node would create it (and its parents) 0755.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    enableCompileCache(dir);
  } catch {
    // No cache dir (a read-only home): run without the compile cache.
  }
}
void import("./fast-path/entry.js");
