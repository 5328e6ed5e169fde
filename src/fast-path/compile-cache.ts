// Node 22+'s compile cache for the full CLI, turned on only when the fast path could not answer:
// the bundle it loads then (2 MB) is compiled once, not on every cache miss. Node 20 has none and
// goes on as before. The cache lives in kubelogin's default cache dir (options/resolve.ts
// defaultCacheDir, not imported: its module would weigh on the fast path), private to the user,
// not in a shared /tmp where another user could plant compiled code.
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { foreignWriter } from "../cache/trust.js";

export function enableCompileCache(uid: number): void {
  // Asked of Node 22 and later only: on Node 20, loading node:module also loads its ES module loader.
  // Stryker disable next-line ConditionalExpression: Node 20's node:module has no enableCompileCache, so asking it there only costs time
  const nodeModule = Number(process.versions.node.split(".")[0]) >= 22 ? process.getBuiltinModule("node:module") : undefined;
  const { enableCompileCache: enable } = (nodeModule ?? {}) as { enableCompileCache?: (dir: string) => unknown };
  if (!enable) return;
  const base = process.env.KUBECACHEDIR || (process.env.HOME && join(process.env.HOME, ".kube/cache/kubelogin"));
  // Without HOME (rare) the full CLI runs without it, rather than load node:os on every call.
  if (!base) return;
  const dir = join(base, "node-compile-cache");
  try {
    // 0700 as file-store.ts makes the cache dir; Node would create it (and its parents) 0755.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // An existing dir is accepted by mkdir whoever made it: code compiled by another user is never loaded.
    if ([base, dir].some((path) => foreignWriter(statSync(path), uid) !== undefined)) return;
    enable(dir);
  } catch {
    // No cache dir (a read-only home): run without the compile cache.
  }
}
