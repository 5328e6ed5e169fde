// The MSAL cache plugin driven by MSAL's own TokenCache (a PublicClientApplication makes no
// request until asked for a token): loaded before access, written only when changed, under the
// lock, 0600; a corrupt entry is set aside and the run goes on with an empty cache.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { PublicClientApplication, TokenCacheContext } from "@azure/msal-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStores } from "../../src/cache/stores.js";
import type { LockOptions } from "../../src/cache/lock.js";
import { createMsalCachePlugin } from "../../src/cache/msal-plugin.js";
import type { TokenStore } from "../../src/cache/store.js";
import { CacheLockTimeoutError, type CacheError } from "../../src/errors.js";
import { nodeRuntime, type Clock } from "../../src/runtime.js";

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const ENTRY = "msal-test.json";
const EMPTY = '{"Account":{},"IdToken":{},"AccessToken":{},"RefreshToken":{},"AppMetadata":{}}';
const WITH_ACCOUNT = JSON.stringify({
  Account: {
    "uid.utid-login.microsoftonline.com-utid": {
      home_account_id: "uid.utid",
      environment: "login.microsoftonline.com",
      realm: "utid",
      local_account_id: "uid",
      username: "someone@example.com",
      authority_type: "MSSTS",
    },
  },
  IdToken: {},
  AccessToken: {},
  RefreshToken: {},
  AppMetadata: {},
});

/** Virtual time, so waiting on a held lock takes no real time. */
function fakeClock(start: number): Clock {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

let dir: string;
let store: TokenStore;
let reports: (string | undefined)[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-msal-plugin-"));
  store = createStores({ cacheDir: join(dir, "cache"), now: () => NOW }).longLived;
  reports = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function app(lock: Partial<LockOptions> = {}): PublicClientApplication {
  const options: LockOptions = { clock: fakeClock(NOW), pid: process.pid, isProcessAlive: nodeRuntime().isProcessAlive, timeoutMs: 1_000, ...lock };
  const cachePlugin = createMsalCachePlugin(store, ENTRY, options, {
    corrupt: (aside) => reports.push(aside),
    unusable: (err) => {
      throw err;
    },
    notSaved: (err) => {
      throw err;
    },
  });
  return new PublicClientApplication({ auth: { clientId: "00000000-0000-0000-0000-00000000000b" }, cache: { cachePlugin } });
}

const entryPath = (): string => join(store.location, ENTRY);

describe("createMsalCachePlugin", () => {
  it("starts empty without an entry, and writes nothing when nothing changed", async () => {
    expect(await app().getTokenCache().getAllAccounts()).toEqual([]);
    expect(await store.read(ENTRY)).toBeNull();
    expect(reports).toEqual([]);
  });

  it("loads the stored cache into MSAL and leaves the file alone when nothing changed", async () => {
    await store.write(ENTRY, WITH_ACCOUNT);
    const before = await stat(entryPath());
    const accounts = await app().getTokenCache().getAllAccounts();
    expect(accounts.map((a) => [a.homeAccountId, a.tenantId, a.localAccountId])).toEqual([["uid.utid", "utid", "uid"]]);
    expect(await readFile(entryPath(), "utf8")).toBe(WITH_ACCOUNT);
    expect((await stat(entryPath())).mtimeMs).toBe(before.mtimeMs);
    expect(await readdir(store.location)).toEqual([ENTRY]);
    expect(reports).toEqual([]);
  });

  it("loads a cache that has only some of MSAL's sections", async () => {
    const partial = JSON.stringify({ Account: JSON.parse(WITH_ACCOUNT).Account, Other: 1 });
    await store.write(ENTRY, partial);
    expect((await app().getTokenCache().getAllAccounts()).map((a) => a.homeAccountId)).toEqual(["uid.utid"]);
    expect(reports).toEqual([]);
    expect(await store.read(ENTRY)).toBe(partial);
  });

  it("writes a changed cache as a private file and releases the lock", async () => {
    await store.write(ENTRY, WITH_ACCOUNT);
    const cache = app().getTokenCache();
    const [account] = await cache.getAllAccounts();
    await cache.removeAccount(account!);
    expect(await readFile(entryPath(), "utf8")).toBe(EMPTY);
    expect((await stat(entryPath())).mode & 0o777).toBe(0o600);
    expect(await readdir(store.location)).toEqual([ENTRY]);
  });

  it("writes only under the entry's lock", async () => {
    await store.write(ENTRY, WITH_ACCOUNT);
    const lockPath = `${store.lockDir}/${ENTRY}.lock`;
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, host: hostname(), since: 1 }));
    const cache = app().getTokenCache();
    const [account] = await cache.getAllAccounts();
    await expect(cache.removeAccount(account!)).rejects.toBeInstanceOf(CacheLockTimeoutError);
    expect(await readFile(entryPath(), "utf8")).toBe(WITH_ACCOUNT);
  });

  it.each([
    ["bad JSON", "{not json"],
    ["JSON null", "null"],
    ["a JSON array", "[]"],
    ["an entry that is not an object", '{"Account":{"uid.utid-login.microsoftonline.com-utid":1}}'],
    ["an entry that is null", '{"Account":{"uid.utid-login.microsoftonline.com-utid":null}}'],
    ["a section that is null", '{"RefreshToken":null}'],
    ["a section that is a list", '{"RefreshToken":[]}'],
    ["an empty entry", ""],
  ])("sets aside %s, reports it, and goes on empty so the next write succeeds", async (_, blob) => {
    await store.write(ENTRY, blob);
    const cache = app().getTokenCache();
    expect(await cache.getAllAccounts()).toEqual([]);
    const aside = join(store.location, `${ENTRY}.corrupt-2024-01-02T03-04-05-678Z`);
    expect(reports).toEqual([aside]);
    expect(await readFile(aside, "utf8")).toBe(blob);
    expect(await store.read(ENTRY)).toBeNull();

    // MSAL re-reads the blob it last deserialized when serializing; the plugin must have reset it.
    const plugin = createMsalCachePlugin(
      store,
      ENTRY,
      { clock: fakeClock(NOW), pid: process.pid, isProcessAlive: nodeRuntime().isProcessAlive, timeoutMs: 1_000 },
      {
        corrupt: (a) => reports.push(a),
        unusable: (err) => {
          throw err;
        },
        notSaved: (err) => {
          throw err;
        },
      },
    );
    await store.write(ENTRY, blob);
    await plugin.beforeCacheAccess(new TokenCacheContext(cache, false));
    await plugin.afterCacheAccess(new TokenCacheContext(cache, true));
    expect(await readFile(entryPath(), "utf8")).toBe(EMPTY);
  });
});

describe("an unusable backend", () => {
  it("reads and writes nothing, reports the read as unusable and the write as not saved, and lets MSAL go on in memory", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "kubelogin-msal-file-")), "not-a-dir");
    await writeFile(file, "x");
    const events: string[] = [];
    const why = (err: CacheError): string => `${err.name} ${(err.cause as NodeJS.ErrnoException).code}`;
    const plugin = createMsalCachePlugin(
      createStores({ cacheDir: file, now: () => NOW }).longLived,
      ENTRY,
      { clock: fakeClock(NOW), pid: process.pid, isProcessAlive: nodeRuntime().isProcessAlive, timeoutMs: 1_000 },
      { corrupt: () => undefined, unusable: (err) => events.push(`unusable: ${why(err)}`), notSaved: (err) => events.push(`not saved: ${why(err)}`) },
    );
    const cache = new PublicClientApplication({ auth: { clientId: "00000000-0000-0000-0000-00000000000c" } }).getTokenCache();
    await plugin.beforeCacheAccess(new TokenCacheContext(cache, false));
    await plugin.afterCacheAccess(new TokenCacheContext(cache, true));
    // Reading says ENOTDIR; creating the directory for the write says EEXIST.
    expect(events).toEqual(["unusable: CacheError ENOTDIR", "not saved: CacheError EEXIST"]);
    expect(await readFile(file, "utf8")).toBe("x");
  });

  it("passes on an error that is not the cache's (a CacheError is the only one it absorbs)", async () => {
    const failing: TokenStore = {
      ...store,
      read: () => Promise.reject(Object.assign(new Error("spawn az ENOENT"), { code: "ENOENT", syscall: "spawn az" })),
    };
    const unusable: unknown[] = [];
    const plugin = createMsalCachePlugin(
      failing,
      ENTRY,
      { clock: fakeClock(NOW), pid: process.pid, isProcessAlive: nodeRuntime().isProcessAlive, timeoutMs: 1_000 },
      { corrupt: () => undefined, unusable: (err) => unusable.push(err), notSaved: (err) => unusable.push(err) },
    );
    const cache = new PublicClientApplication({ auth: { clientId: "00000000-0000-0000-0000-00000000000c" } }).getTokenCache();
    await expect(plugin.beforeCacheAccess(new TokenCacheContext(cache, false))).rejects.toThrow("spawn az ENOENT");
    expect(unusable).toEqual([]);
  });

  it("passes on a write error that is not the cache's", async () => {
    const failing: TokenStore = { ...store, write: () => Promise.reject(new TypeError("a bug")) };
    const unusable: unknown[] = [];
    const plugin = createMsalCachePlugin(
      failing,
      ENTRY,
      { clock: fakeClock(NOW), pid: process.pid, isProcessAlive: nodeRuntime().isProcessAlive, timeoutMs: 1_000 },
      { corrupt: () => undefined, unusable: (err) => unusable.push(err), notSaved: (err) => unusable.push(err) },
    );
    const cache = new PublicClientApplication({ auth: { clientId: "00000000-0000-0000-0000-00000000000c" } }).getTokenCache();
    await plugin.beforeCacheAccess(new TokenCacheContext(cache, false));
    await expect(plugin.afterCacheAccess(new TokenCacheContext(cache, true))).rejects.toThrow(TypeError);
    expect(unusable).toEqual([]);
  });
});
