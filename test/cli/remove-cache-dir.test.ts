// remove-cache-dir / remove-tokens (compat spec §1.5, revised decision 4) against real directories:
// kubelogin's files go, everything else in the directory stays.
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { createStores } from "../../src/cache/stores.js";
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

const TOKEN = `token-${"a".repeat(40)}.json`;
const MSAL = `msal-${"b".repeat(40)}.json`;
/** Everything kubelogin may leave in a cache dir (revised decision 4). */
const KUBELOGIN_FILES = [
  TOKEN, `${TOKEN}.lock`, `${TOKEN}.lock.break`, `${TOKEN}.lock.stale-123`, `${TOKEN}.corrupt-2024-01-02T03-04-05-678Z`, `${TOKEN}.0123456789ab.tmp`,
  MSAL, `${MSAL}.lock`, `${MSAL}.9876543210ab.tmp`,
  "auth.json", "auth.json.0123456789ab.tmp", "pop_tokens.cache", "pop_rsa_key.cache",
  // A sign-in's per-target auth record and the MSAL blob of user sign-ins (login/auth-record.ts).
  `auth-${"c".repeat(40)}.json`, `auth-${"c".repeat(40)}.json.0123456789ab.tmp`, "msal-user-cache.json", "msal-user-cache.json.lock",
  // The fast path's index of the token entries (fast-path/hit-index.ts).
  `fast-${"d".repeat(32)}.json`, `fast-${"d".repeat(32)}.json.0123456789ab.tmp`,
];

/** A cache dir as get-token leaves it. */
async function populatedCache(root: string): Promise<string> {
  const cache = join(root, "cache");
  await mkdir(cache, { recursive: true });
  for (const name of KUBELOGIN_FILES) await writeFile(join(cache, name), "x");
  return cache;
}

/** What kubectl and others keep in KUBECACHEDIR, which is kubectl's cache dir too. */
const OTHERS = ["discovery", "http", "notes.txt", "token.json", "settings.lock"];
async function addOthers(cache: string): Promise<void> {
  await mkdir(join(cache, "http", "abc"), { recursive: true });
  await writeFile(join(cache, "http", "abc", "0123"), "kubectl's http cache");
  await mkdir(join(cache, "discovery", "example.com_443"), { recursive: true });
  await writeFile(join(cache, "discovery", "example.com_443", "servergroups.json"), "{}");
  // Names kubelogin also uses, one level down: not its files.
  await writeFile(join(cache, "discovery", "auth.json"), "{}");
  for (const name of ["notes.txt", "token.json", "settings.lock"]) await writeFile(join(cache, name), "someone's");
}

describe("remove-cache-dir", () => {
  test("a missing directory is success, silently", async () => {
    const rt = testRuntime();
    await removeCacheDirCommand.run(["--cache-dir", join(await tempDir(), "never-created")], rt.context());
    expect(rt.stdout.text() + rt.stderr.text()).toBe("");
  });

  test("removes every kubelogin file, then the directory, which is then empty", async () => {
    const root = await tempDir();
    const cache = await populatedCache(root);
    await removeCacheDirCommand.run(["--cache-dir", cache], testRuntime().context());
    expect(await exists(cache)).toBe(false);
    expect(await readdir(root)).toEqual([]);
  });

  test("with KUBECACHEDIR (kubectl's cache dir too) removes only kubelogin's files; the rest and the directory stay", async () => {
    const cache = await populatedCache(await tempDir());
    await addOthers(cache);
    const rt = testRuntime({ env: { KUBECACHEDIR: cache } });
    expect(await run(["remove-cache-dir"], rt)).toBe(0);
    expect(rt.stdout.text() + rt.stderr.text()).toBe("");
    expect((await readdir(cache)).sort()).toEqual(OTHERS.toSorted());
    expect(await readFile(join(cache, "http", "abc", "0123"), "utf8")).toBe("kubectl's http cache");
    expect(await readdir(join(cache, "discovery")).then((names) => names.sort())).toEqual(["auth.json", "example.com_443"]);
    expect(await readFile(join(cache, "notes.txt"), "utf8")).toBe("someone's");
  });

  test("through a symlinked default cache dir (the default ends in /) removes the kubelogin files in the target", async () => {
    const home = await tempDir();
    const target = await populatedCache(await tempDir());
    await writeFile(join(target, "notes.txt"), "someone's");
    await mkdir(join(home, ".kube", "cache"), { recursive: true });
    await symlink(target, join(home, ".kube", "cache", "kubelogin"));
    const rt = testRuntime({ homedir: home });
    expect(await run(["remove-cache-dir"], rt)).toBe(0);
    expect(rt.stderr.text()).toBe("");
    expect(await readdir(target)).toEqual(["notes.txt"]);
    // The link is the user's own arrangement, and stays.
    expect((await lstat(join(home, ".kube", "cache", "kubelogin"))).isSymbolicLink()).toBe(true);
  });

  test("through a symlink whose target it empties, the link and its target stay", async () => {
    const root = await tempDir();
    const target = await populatedCache(root);
    await symlink(target, join(root, "link"));
    await removeCacheDirCommand.run(["--cache-dir", `${join(root, "link")}/`], testRuntime().context());
    expect(await readdir(target)).toEqual([]);
    expect((await lstat(join(root, "link"))).isSymbolicLink()).toBe(true);
  });

  test("a kubelogin file it cannot remove is an error, exit 1, with upstream's text; the rest is removed", async () => {
    const cache = await populatedCache(await tempDir());
    // A directory where a lock belongs cannot be unlinked, not even by root.
    await rm(join(cache, `${TOKEN}.lock`));
    await mkdir(join(cache, `${TOKEN}.lock`));
    await writeFile(join(cache, `${TOKEN}.lock`, "inside"), "x");
    const rt = testRuntime();
    expect(await run(["remove-cache-dir", "--cache-dir", cache], rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(
      `Error: unable to delete authentication record cache in "${cache}": unlinkat ${join(cache, `${TOKEN}.lock`)}: is a directory`,
    );
    expect(await readdir(cache)).toEqual([`${TOKEN}.lock`]);
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

  test("a path that is a regular file is refused and left alone (it is not kubelogin's)", async () => {
    const file = join(await tempDir(), "file");
    await writeFile(file, "someone's");
    await expect(removeCacheDirCommand.run(["--cache-dir", file], testRuntime().context())).rejects.toThrow(
      `unable to delete authentication record cache in "${file}": openfdat ${file}: not a directory`,
    );
    expect(await readFile(file, "utf8")).toBe("someone's");
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
    const cache = await populatedCache(await tempDir());
    await removeCacheDirCommand.run(["--cache-dir", cache, "-v", "5"], rt.context(5));
    expect(rt.stderr.text()).toContain(`removing kubelogin's cached files from ${cache}`);
    expect(rt.stderr.text()).toContain(`removed the empty directory ${cache}`);
  });

  test("clears through the stores: what get-token wrote, remove-cache-dir removes", async () => {
    const cache = join(await tempDir(), "cache");
    const stores = createStores({ cacheDir: cache, now: Date.now });
    await stores.accessTokens.write(TOKEN, "t");
    await stores.longLived.write(MSAL, "{}");
    await writeFile(join(cache, "kept.txt"), "x");
    await removeCacheDirCommand.run(["--cache-dir", cache], testRuntime().context());
    expect(await readdir(cache)).toEqual(["kept.txt"]);
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
