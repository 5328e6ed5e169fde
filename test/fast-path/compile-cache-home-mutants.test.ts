// enableCompileCache without KUBECACHEDIR: kubelogin's default cache dir under HOME. A file of its
// own, as the compile cache once on stays on for the worker (see compile-cache-mutants.test.ts).
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { enableCompileCache } from "../../src/fast-path/compile-cache.js";

const major = Number(process.versions.node.split(".")[0]);
let dir: string;
let saved: Record<"KUBECACHEDIR" | "HOME", string | undefined>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-compile-cache-home-"));
  saved = { KUBECACHEDIR: process.env.KUBECACHEDIR, HOME: process.env.HOME };
});
afterEach(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(dir, { recursive: true, force: true });
});

test.runIf(major >= 22)("Node 22+: an empty KUBECACHEDIR means HOME's .kube/cache/kubelogin", async () => {
  process.env.KUBECACHEDIR = "";
  process.env.HOME = dir;
  enableCompileCache(process.getuid!());
  const { getCompileCacheDir } = (await import("node:module")) as unknown as { getCompileCacheDir: () => string | undefined };
  expect(getCompileCacheDir()).toMatch(new RegExp(`^${join(dir, ".kube/cache/kubelogin/node-compile-cache")}/v${process.versions.node}-`));
  expect((await stat(join(dir, ".kube/cache/kubelogin/node-compile-cache"))).mode & 0o777).toBe(0o700);
});
