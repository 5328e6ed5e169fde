// enableCompileCache in this process: on Node 22 and later the compile cache is turned on in
// <cache dir>/node-compile-cache, made 0700; on Node 20 nothing happens and nothing is made.
// Each vitest worker is a fresh Node environment, so the cache is not on yet when a test starts.
import { chmod, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { enableCompileCache } from "../../src/fast-path/compile-cache.js";

const major = Number(process.versions.node.split(".")[0]);
let dir: string;
let saved: Record<"KUBECACHEDIR" | "HOME", string | undefined>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-compile-cache-"));
  saved = { KUBECACHEDIR: process.env.KUBECACHEDIR, HOME: process.env.HOME };
});
afterEach(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(dir, { recursive: true, force: true });
});

const compileCacheDir = async () => ((await import("node:module")) as unknown as { getCompileCacheDir: () => string | undefined }).getCompileCacheDir();

// These leave the cache off, so they run before the one that turns it on for this worker.
test.runIf(major >= 22)("Node 22+: a cache dir, or its node-compile-cache, that others can write to is not used", async () => {
  process.env.KUBECACHEDIR = join(dir, "shared");
  await mkdir(join(dir, "shared"), { mode: 0o700 });
  await chmod(join(dir, "shared"), 0o777);
  enableCompileCache(process.getuid!());
  expect(await compileCacheDir()).toBeUndefined();
  await chmod(join(dir, "shared"), 0o700);
  await chmod(join(dir, "shared", "node-compile-cache"), 0o770);
  enableCompileCache(process.getuid!());
  expect(await compileCacheDir()).toBeUndefined();
});

test.runIf(major >= 22)("Node 22+: without KUBECACHEDIR and HOME it stays off", async () => {
  process.env.KUBECACHEDIR = "";
  delete process.env.HOME;
  enableCompileCache(process.getuid!());
  expect(await compileCacheDir()).toBeUndefined();
});

test.runIf(major >= 22)("Node 22+: the cache is on, in KUBECACHEDIR's node-compile-cache, private to the user", async () => {
  process.env.KUBECACHEDIR = join(dir, "cache");
  enableCompileCache(process.getuid!());
  const { getCompileCacheDir } = (await import("node:module")) as unknown as { getCompileCacheDir: () => string | undefined };
  // Node keeps each version's code in a directory of its own under the one it is given.
  expect(getCompileCacheDir()).toMatch(new RegExp(`^${join(dir, "cache", "node-compile-cache")}/v${process.versions.node}-`));
  expect((await stat(join(dir, "cache", "node-compile-cache"))).mode & 0o777).toBe(0o700);
});

test.runIf(major < 22)("Node 20: nothing is made", async () => {
  process.env.KUBECACHEDIR = join(dir, "cache");
  enableCompileCache(process.getuid!());
  await expect(stat(join(dir, "cache"))).rejects.toThrow(/ENOENT/);
});
