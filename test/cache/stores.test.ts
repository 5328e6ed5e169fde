// The stores factory: access-token entries and long-lived state are two stores over the cache
// dir, each owning its own names, and clearAll() removes exactly what kubelogin cached.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStores } from "../../src/cache/stores.js";
import { CacheError } from "../../src/errors.js";

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const TOKEN = `token-${"a".repeat(40)}.json`;
const MSAL = `msal-${"b".repeat(40)}.json`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-stores-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("createStores", () => {
  it("splits entries by lifetime: access tokens in one store, MSAL's blob and upstream's files in the other", async () => {
    const { accessTokens, longLived } = createStores({ cacheDir: dir, now: () => NOW });
    expect(accessTokens.location).toBe(dir);
    expect(longLived.location).toBe(dir);
    await accessTokens.write(TOKEN, "t");
    for (const name of [MSAL, "auth.json", "pop_tokens.cache", "pop_rsa_key.cache"]) await longLived.write(name, name);
    await expect(accessTokens.write(MSAL, "x")).rejects.toThrow("does not own");
    await expect(longLived.write(TOKEN, "x")).rejects.toThrow("does not own");
    await expect(accessTokens.read("auth.json")).rejects.toThrow("does not own");
  });

  it("clearAll removes every kubelogin file (entries, locks, set-aside, temp, upstream's) and nothing else", async () => {
    const stores = createStores({ cacheDir: dir, now: () => NOW });
    await stores.accessTokens.write(TOKEN, "t");
    await stores.longLived.write(MSAL, "{}");
    const kubelogin = [
      "auth.json", "pop_tokens.cache", "pop_rsa_key.cache", `auth-${"c".repeat(40)}.json`, "cache-backend.json",
      `${TOKEN}.lock`, `${TOKEN}.lock.break`, `${TOKEN}.lock.stale-77`, `${TOKEN}.corrupt-2024-01-02T03-04-05-678Z`, `${TOKEN}.0123456789ab.tmp`,
      `${MSAL}.lock`, `${MSAL}.corrupt-2024-01-02T03-04-05-678Z`, "auth.json.corrupt-2024-01-02T03-04-05-678Z",
    ];
    const others = [
      "config", "notes.txt", "token.json", "msal.cache", "tokens.json.lock", "servergroups.json",
      // Our names only as whole names: nothing before or after them.
      "xtoken-a.json", "token-a.json.bak", "xmsal-a.json", "msal-a.json.bak", `xauth-${"c".repeat(40)}.json`, `auth-${"c".repeat(40)}.json.bak`,
      `auth-${"c".repeat(39)}.json`, "xauth.json", "cache-backend.json.bak",
    ];
    for (const name of [...kubelogin, ...others]) await writeFile(join(dir, name), "x");
    await mkdir(join(dir, "http", "abc"), { recursive: true });
    await writeFile(join(dir, "http", "abc", TOKEN), "kubectl's, not ours");

    await stores.clearAll();
    expect((await readdir(dir)).sort()).toEqual([...others, "http"].sort());
    expect(await readdir(join(dir, "http", "abc"))).toEqual([TOKEN]);
  });

  it("clearAll clears both stores even when one fails, then reports the failure as a CacheError", async () => {
    const stores = createStores({ cacheDir: dir, now: () => NOW });
    await stores.accessTokens.write(TOKEN, "t");
    await mkdir(join(dir, `${MSAL}.lock`));
    await expect(stores.clearAll()).rejects.toBeInstanceOf(CacheError);
    expect(await readdir(dir)).toEqual([`${MSAL}.lock`]);
  });
});
