// Where the long-lived entries go (decisions 1 and 10): the backend choice, its one-time fallback
// warning, its -v 1 lines and describe() text, routing to the keychain, and clearing it. The
// keychain is the in-memory fake (fake-keychain.ts); the real one runs in test/e2e/keychain.test.ts.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeychainUnavailableError, keychainService } from "../../src/cache/keychain-store.js";
import { CACHE_BACKENDS, createStores, parseCacheBackend, type CacheSettings } from "../../src/cache/stores.js";
import { CacheLockTimeoutError, ValidationError } from "../../src/errors.js";
import type { Logger } from "../../src/log.js";
import { nodeRuntime, systemClock } from "../../src/runtime.js";
import { fakeKeychain, type FakeKeychain } from "./fake-keychain.js";

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const MSAL = `msal-${"b".repeat(40)}.json`;
const TOKEN = `token-${"a".repeat(40)}.json`;
const AUTH = `auth-${"c".repeat(40)}.json`;

function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return {
    level: 10,
    lines,
    v: (level, message) => void lines.push(`v${level} ${typeof message === "string" ? message : message()}`),
    warn: (message) => void lines.push(`warn ${message}`),
    addSecrets: () => undefined,
    secrets: [],
  };
}

let dir: string;
let log: ReturnType<typeof recordingLogger>;
let keychain: FakeKeychain;
let loads: number;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-stores-backend-"));
  log = recordingLogger();
  keychain = fakeKeychain();
  loads = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stores = (settings: Partial<CacheSettings> = {}) =>
  createStores({
    cacheDir: dir,
    now: () => NOW,
    log,
    platform: "darwin",
    keychain: async () => {
      loads++;
      return keychain;
    },
    ...settings,
  });
const itemsOf = async (): Promise<string[]> => [...(keychain.items.get(await keychainService(dir))?.keys() ?? [])].sort();

describe("parseCacheBackend", () => {
  it("accepts auto, file and keychain", () => {
    expect(CACHE_BACKENDS).toEqual(["auto", "file", "keychain"]);
    for (const value of CACHE_BACKENDS) expect(parseCacheBackend(value, "--cache-backend")).toBe(value);
  });

  it("refuses anything else, naming where the value came from", () => {
    for (const value of ["Keychain", "", "files", "auto "]) {
      expect(() => parseCacheBackend(value, "env KUBELOGIN_CACHE_BACKEND")).toThrow(ValidationError);
    }
    const err = (() => {
      try {
        parseCacheBackend("files", "env KUBELOGIN_CACHE_BACKEND");
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(err?.message).toBe('cache backend "files" is not one of auto, file, keychain');
    expect(err?.hint).toBe("the value came from env KUBELOGIN_CACHE_BACKEND: pass --cache-backend (or KUBELOGIN_CACHE_BACKEND) as auto, file or keychain");
  });
});

describe("the file backend", () => {
  it("is the default: long-lived entries are files, the keychain is never loaded", async () => {
    const s = stores();
    await s.longLived.write(MSAL, "{}");
    expect(await readFile(join(dir, MSAL), "utf8")).toBe("{}");
    expect(await s.longLived.read(MSAL)).toBe("{}");
    expect(loads).toBe(0);
    expect(log.lines).toEqual([`v1 long-lived cache entries: files in ${dir} (default chose the file backend)`]);
    expect(await s.describe()).toBe(`cache backend: file; access tokens in 0600 files in ${dir}; long-lived entries in 0600 files (default chose the file backend)`);
  });

  it("chooses once per process", async () => {
    const s = stores({ backend: "file", backendOrigin: "--cache-backend" });
    await s.longLived.write(MSAL, "{}");
    await s.longLived.read(MSAL);
    expect(await s.longLived.setAside(MSAL)).toBe(join(dir, `${MSAL}.corrupt-2024-01-02T03-04-05-678Z`));
    expect(log.lines).toEqual([`v1 long-lived cache entries: files in ${dir} (--cache-backend chose the file backend)`]);
  });
});

describe("the keychain backend", () => {
  it("keeps MSAL's blobs and the PoP key in the keychain, every other long-lived entry in files", async () => {
    const s = stores({ backend: "keychain", backendOrigin: "--cache-backend" });
    await s.longLived.write(MSAL, '{"Account":{}}');
    await s.longLived.write("pop_rsa_key.cache", "key");
    await s.longLived.write(AUTH, "record");
    await s.accessTokens.write(TOKEN, "t");
    expect(await s.longLived.read(MSAL)).toBe('{"Account":{}}');
    expect(await s.longLived.read("pop_rsa_key.cache")).toBe("key");
    expect(await s.longLived.read(AUTH)).toBe("record");
    expect((await readdir(dir)).sort()).toEqual([AUTH, "cache-backend.json", TOKEN].sort());
    expect(await itemsOf()).toEqual([MSAL, "pop_rsa_key.cache"]);
    expect(s.longLived.location).toBe(dir);
    expect(s.longLived.lockDir).toBe(dir);
    expect(loads).toBe(1);
    expect(log.lines).toEqual(["v1 long-lived cache entries: the OS keychain (--cache-backend chose the keychain backend)"]);
    expect(JSON.parse(await readFile(join(dir, "cache-backend.json"), "utf8"))).toEqual({ longLived: "keychain", reason: "it accepted a write" });
    expect(await s.describe()).toBe(`cache backend: keychain; access tokens in 0600 files in ${dir}; long-lived entries in the OS keychain (--cache-backend chose the keychain backend)`);
  });

  it("sets an unreadable blob aside in the keychain and a file entry beside its file", async () => {
    const s = stores({ backend: "keychain" });
    await s.longLived.write(MSAL, "{}");
    await s.longLived.write(AUTH, "record");
    expect(await s.longLived.setAside(MSAL)).toMatch(new RegExp(`^keychain item "${MSAL}\\.corrupt-\\d+" of service "kubelogin `));
    expect(await s.longLived.setAside(AUTH)).toBe(join(dir, `${AUTH}.corrupt-2024-01-02T03-04-05-678Z`));
  });

  it("fails with a hint naming who asked for it when the keychain cannot be used", async () => {
    keychain.state = "locked";
    const s = stores({ backend: "keychain", backendOrigin: "env KUBELOGIN_CACHE_BACKEND" });
    const failure = s.longLived.read(MSAL);
    await expect(failure).rejects.toBeInstanceOf(KeychainUnavailableError);
    await expect(failure).rejects.toThrow(/^the OS keychain is not available: the keychain refused access: Cannot create an item in a locked collection$/);
    await expect(failure).rejects.toMatchObject({ hint: expect.stringMatching(/^env KUBELOGIN_CACHE_BACKEND asked for the keychain backend: /) });
    expect(log.lines.filter((line) => line.startsWith("warn"))).toEqual([]);
  });

  it("verify() tells before any entry is read or written: rejects for a keychain that cannot be used, resolves where files will do", async () => {
    keychain.state = "locked";
    await expect(stores({ backend: "keychain" }).longLived.verify?.()).rejects.toThrow(/^the OS keychain is not available: the keychain refused access: /);
    await expect(stores({ backend: "auto" }).longLived.verify?.()).resolves.toBeUndefined();
    await expect(stores({ backend: "file" }).longLived.verify?.()).resolves.toBeUndefined();
    keychain.state = "unlocked";
    await expect(stores({ backend: "keychain" }).longLived.verify?.()).resolves.toBeUndefined();
    expect(await readdir(dir)).toEqual(["cache-backend.json"]);
  });

  it("on Linux without a D-Bus session fails without loading the keychain library", async () => {
    const s = stores({ backend: "keychain", platform: "linux", env: {} });
    await expect(s.longLived.read(MSAL)).rejects.toThrow(
      "the OS keychain is not available: no D-Bus session to reach a Secret Service (DBUS_SESSION_BUS_ADDRESS is unset)",
    );
    expect(loads).toBe(0);
    const withBus = stores({ backend: "keychain", platform: "linux", env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nowhere" } });
    await withBus.longLived.write(MSAL, "{}");
    expect(loads).toBe(1);
  });

  it("probes under the cache dir's backend lock when one is given", async () => {
    const lockPath = join(dir, "cache-backend.json.lock");
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, host: hostname(), since: NOW }));
    const lock = () => ({ clock: systemClock, pid: process.pid + 1, isProcessAlive: nodeRuntime().isProcessAlive, timeoutMs: 0 });
    const failure = stores({ backend: "keychain", lock }).longLived.read(MSAL);
    await expect(failure).rejects.toBeInstanceOf(KeychainUnavailableError);
    await expect(failure).rejects.toMatchObject({ cause: expect.any(CacheLockTimeoutError) });
    expect(keychain.calls).toEqual([]);
  });
});

describe("the auto backend", () => {
  it("uses an unlocked keychain and says why at -v 1", async () => {
    const s = stores({ backend: "auto" });
    expect(await s.describe()).toBe(
      `cache backend: auto; access tokens in 0600 files in ${dir}; long-lived entries in the OS keychain if it is reachable and unlocked, else in files (auto: not tried yet for this cache dir)`,
    );
    await s.longLived.write(MSAL, "{}");
    expect(await itemsOf()).toEqual([MSAL]);
    expect(log.lines).toEqual(["v1 long-lived cache entries: the OS keychain (auto: it accepted a write)"]);
    expect(await s.describe()).toBe(
      `cache backend: auto; access tokens in 0600 files in ${dir}; long-lived entries in the OS keychain (auto: at the last sign-in or refresh it accepted a write)`,
    );
    // The next process finds our items, and records that.
    log.lines.length = 0;
    await stores({ backend: "auto" }).longLived.read(MSAL);
    expect(log.lines).toEqual(["v1 long-lived cache entries: the OS keychain (auto: it holds our items)"]);
    expect(JSON.parse(await readFile(join(dir, "cache-backend.json"), "utf8"))).toEqual({ longLived: "keychain", reason: "it holds our items" });
  });

  it("falls back to files with one warning per cache dir, and -v 1 says why every time", async () => {
    keychain.state = "absent";
    const reason = "the keychain refused access: The name org.freedesktop.secrets was not provided by any .service files";
    const fallback = `v1 long-lived cache entries: files in ${dir} (auto: the OS keychain is not available: ${reason})`;
    const s = stores({ backend: "auto" });
    await s.longLived.write(MSAL, "{}");
    expect(await readFile(join(dir, MSAL), "utf8")).toBe("{}");
    expect(log.lines).toEqual([
      `warn the OS keychain is not available (${reason}); refresh tokens are kept in 0600 files in ${dir} instead (said once for this cache dir; --cache-backend file or KUBELOGIN_CACHE_BACKEND=file chooses this without trying)`,
      fallback,
    ]);
    expect(await s.describe()).toBe(
      `cache backend: auto; access tokens in 0600 files in ${dir}; long-lived entries in 0600 files (auto: at the last sign-in or refresh the OS keychain was not available: ${reason})`,
    );
    log.lines.length = 0;
    await stores({ backend: "auto" }).longLived.read(MSAL);
    expect(log.lines).toEqual([fallback]);
  });

  it("rewrites its state only when it changed", async () => {
    await stores({ backend: "auto" }).longLived.write(MSAL, "{}");
    const state = join(dir, "cache-backend.json");
    const first = (await stat(state)).ino;
    await stores({ backend: "auto" }).longLived.read(MSAL);
    const second = (await stat(state)).ino;
    expect(second).not.toBe(first);
    await stores({ backend: "auto" }).longLived.read(MSAL);
    expect((await stat(state)).ino).toBe(second);
  });

  it("works without a logger: chosen, fallen back and cleared in silence", async () => {
    const quiet = (backend: "auto" | "keychain") => createStores({ cacheDir: dir, now: () => NOW, backend, platform: "darwin", keychain: async () => keychain });
    await quiet("keychain").longLived.write(MSAL, "{}");
    await quiet("auto").longLived.write(MSAL, "{}");
    await quiet("auto").clearAll();
    expect(await itemsOf()).toEqual([]);
    keychain.state = "absent";
    await quiet("auto").longLived.write(MSAL, "{}");
    await quiet("auto").clearAll();
    expect(await readdir(dir)).toEqual([]);
  });

  it("warns again when the keychain failed after working, and not when only the reason changed", async () => {
    await stores({ backend: "auto" }).longLived.write(MSAL, "{}");
    keychain.state = "locked";
    log.lines.length = 0;
    await stores({ backend: "auto" }).longLived.read(MSAL);
    expect(log.lines.filter((line) => line.startsWith("warn"))).toHaveLength(1);
    keychain.state = "absent";
    log.lines.length = 0;
    await stores({ backend: "auto" }).longLived.read(MSAL);
    expect(log.lines.filter((line) => line.startsWith("warn"))).toEqual([]);
    expect(JSON.parse(await readFile(join(dir, "cache-backend.json"), "utf8")).reason).toMatch(/org\.freedesktop\.secrets/);
  });

  it("names the reason a KeychainUnavailableError gives as it is", async () => {
    const s = stores({ backend: "auto", keychain: () => Promise.reject(new KeychainUnavailableError("the keytar module cannot be loaded (gone)")) });
    await s.longLived.read(MSAL);
    expect(log.lines.at(-1)).toBe(`v1 long-lived cache entries: files in ${dir} (auto: the OS keychain is not available: the keytar module cannot be loaded (gone))`);
  });

  it("ignores a cache-backend.json it cannot read as a state", async () => {
    for (const content of ["{not json", '{"longLived":"cloud","reason":"x"}']) {
      await writeFile(join(dir, "cache-backend.json"), content);
      expect(await stores({ backend: "auto" }).describe()).toMatch(/\(auto: not tried yet for this cache dir\)$/);
    }
  });

  it("keeps going when the state cannot be remembered", async () => {
    keychain.state = "absent";
    const s = stores({ backend: "auto", cacheDir: join(dir, "missing", "..", "file") });
    await writeFile(join(dir, "file"), "a file where the cache dir should be");
    await expect(s.longLived.read(MSAL)).rejects.toThrow(/could not read/);
    expect(log.lines.some((line) => line.startsWith("warn"))).toBe(true);
  });
});

describe("clearing", () => {
  it("removes the keychain's items whatever the backend now, and says how many at -v 1", async () => {
    await stores({ backend: "keychain" }).longLived.write(MSAL, "{}");
    await stores({ backend: "keychain" }).longLived.write("pop_rsa_key.cache", "key");
    const s = stores({ backend: "file" });
    await s.longLived.write(AUTH, "record");
    log.lines.length = 0;
    await s.clearAll();
    expect(await itemsOf()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
    expect(log.lines).toEqual([`v1 removed 2 item(s) of keychain service "${await keychainService(dir)}"`]);
  });

  it("clears through the routing store too: files and keychain items", async () => {
    const s = stores({ backend: "keychain" });
    await s.longLived.write(MSAL, "{}");
    await s.longLived.write(AUTH, "record");
    await s.longLived.clear();
    expect(await itemsOf()).toEqual([]);
    expect(existsSync(join(dir, AUTH))).toBe(false);
  });

  it("with no keychain, still clears the files and says why no item was removed", async () => {
    keychain.state = "absent";
    const s = stores({ backend: "auto" });
    await s.longLived.write(MSAL, "{}");
    log.lines.length = 0;
    await s.clearAll();
    expect(await readdir(dir)).toEqual([]);
    expect(log.lines).toEqual([expect.stringMatching(/^v1 no keychain items removed: could not remove items from the OS keychain \(service "kubelogin .*"\): The name org/)]);
  });

  it("passes on a failure that is not kubelogin's", async () => {
    const s = stores({ backend: "file", keychain: () => Promise.reject(new TypeError("a bug")) });
    await expect(s.longLived.clear()).rejects.toThrow(TypeError);
  });
});
