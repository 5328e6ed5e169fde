// remove-cache-dir / remove-tokens (compat spec §1.5, decision 4) against real directories.
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { removeCacheDirCommand, removeTokensCommand, RemoveCacheError } from "../../src/cli/remove-cache-dir.js";
import { run } from "../../src/cli/run.js";
import { testRuntime } from "../support/runtime.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kubelogin-remove-cache-"));
  dirs.push(dir);
  return dir;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A cache dir as get-token leaves it: auth record, PoP files, a nested directory. */
async function populatedCache(root: string): Promise<string> {
  const cache = join(root, "cache");
  await mkdir(join(cache, "nested", "deeper"), { recursive: true });
  await writeFile(join(cache, "auth.json"), "{}");
  await writeFile(join(cache, "pop_tokens.cache"), "x");
  await writeFile(join(cache, "nested", "deeper", "file"), "x");
  return cache;
}

describe("remove-cache-dir", () => {
  test("a missing directory is success, silently", async () => {
    const rt = testRuntime();
    await removeCacheDirCommand.run(["--cache-dir", join(await tempDir(), "never-created")], rt.context());
    expect(rt.stdout.text() + rt.stderr.text()).toBe("");
  });

  test("removes the directory and everything in it", async () => {
    const root = await tempDir();
    const cache = await populatedCache(root);
    await removeCacheDirCommand.run(["--cache-dir", cache], testRuntime().context());
    expect(await exists(cache)).toBe(false);
    expect(await readdir(root)).toEqual([]);
  });

  test("a path under a regular file fails with upstream's text", async () => {
    const root = await tempDir();
    await writeFile(join(root, "file"), "x");
    const path = join(root, "file", "child");
    await expect(removeCacheDirCommand.run(["--cache-dir", path], testRuntime().context())).rejects.toThrow(
      expect.objectContaining({
        name: RemoveCacheError.name,
        message: `unable to delete authentication record cache in "${path}": unlinkat ${path}: not a directory`,
      }),
    );
    expect(await exists(join(root, "file"))).toBe(true);
  });

  test("a path ending in /. is refused, as Go's RemoveAll does", async () => {
    const root = await tempDir();
    const path = `${root}/.`;
    await expect(removeCacheDirCommand.run(["--cache-dir", path], testRuntime().context())).rejects.toThrow(
      `unable to delete authentication record cache in "${path}": RemoveAll ${path}: invalid argument`,
    );
    expect(await exists(root)).toBe(true);
  });

  test("--cache-dir '' is a no-op (Go's RemoveAll(\"\"))", async () => {
    await expect(removeCacheDirCommand.run(["--cache-dir", ""], testRuntime().context())).resolves.toBeUndefined();
  });

  test("the default honours KUBECACHEDIR (decision 4)", async () => {
    const root = await tempDir();
    const cache = await populatedCache(root);
    const home = await tempDir();
    const homeCache = await populatedCache(join(home, ".kube"));
    await removeCacheDirCommand.run([], testRuntime({ env: { KUBECACHEDIR: cache }, homedir: home }).context());
    expect(await exists(cache)).toBe(false);
    expect(await exists(homeCache)).toBe(true);
  });

  test("without KUBECACHEDIR the default is <home>/.kube/cache/kubelogin/", async () => {
    const home = await tempDir();
    const cache = join(home, ".kube", "cache", "kubelogin");
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, "auth.json"), "{}");
    await removeCacheDirCommand.run([], testRuntime({ homedir: home }).context());
    expect(await exists(cache)).toBe(false);
    expect(await exists(join(home, ".kube", "cache"))).toBe(true);
  });

  test("-v 5 says what it removes", async () => {
    const rt = testRuntime();
    const path = join(await tempDir(), "gone");
    await removeCacheDirCommand.run(["--cache-dir", path, "-v", "5"], rt.context(5));
    expect(rt.stderr.text()).toContain(`removing ${path}`);
  });
});

describe("remove-tokens (deprecated, hidden)", () => {
  test("is hidden and carries cobra's deprecation text", () => {
    expect(removeTokensCommand.hidden).toBe(true);
    expect(removeTokensCommand.deprecated).toBe("remove-tokens is deprecated, use remove-cache-dir instead");
    expect(removeTokensCommand.options.map((o) => o.flag)).toContain("--token-cache-dir");
    expect(removeTokensCommand.options.map((o) => o.flag)).not.toContain("--cache-dir");
  });

  test("through run(): prints the notice once, then removes --token-cache-dir", async () => {
    const cache = await populatedCache(await tempDir());
    const rt = testRuntime();
    expect(await run(["remove-tokens", "--token-cache-dir", cache], rt)).toBe(0);
    expect(rt.stderr.text()).toBe('Command "remove-tokens" is deprecated, remove-tokens is deprecated, use remove-cache-dir instead\n');
    expect(rt.stdout.text()).toBe("");
    expect(await exists(cache)).toBe(false);
  });

  test("through run(): a failure is exit 1 with upstream's text", async () => {
    const root = await tempDir();
    await writeFile(join(root, "file"), "x");
    const rt = testRuntime();
    expect(await run(["remove-tokens", "--token-cache-dir", join(root, "file", "child")], rt)).toBe(1);
    expect(rt.stderr.text()).toContain(`Error: unable to delete authentication record cache in "${join(root, "file", "child")}": unlinkat`);
  });

  test("a missing directory is success", async () => {
    await expect(removeTokensCommand.run(["--token-cache-dir", join(await tempDir(), "nope")], testRuntime().context())).resolves.toBeUndefined();
  });
});
