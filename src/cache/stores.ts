// The cache's stores, created in one place and split by lifetime (decision 10): the short-lived
// access-token entries the fast path serves, and the long-lived state (MSAL's cache blob with
// refresh tokens and accounts, auth records, PoP keys).
//
// Where the long-lived secrets go is decided here and nowhere else (decisions 1 and 10). Access
// tokens are always 0600 files: they live an hour, and a cached get-token must not load a native
// addon or talk to D-Bus. MSAL's blobs, which hold 90-day refresh tokens, go to the OS keychain
// when the backend (--cache-backend / KUBELOGIN_CACHE_BACKEND) is `keychain`, or `auto` (the
// default) and the keychain is reachable and unlocked; else to 0600 files beside the tokens. The
// choice is made lazily, on the first use of the long-lived store, so cache hits never pay for it.
// `auto` never falls back silently: one warning the first time for a cache dir (remembered in
// cache-backend.json), and -v 1 names the backend and why on every call.
import { join } from "node:path";
import { KubeloginError, ValidationError } from "../errors.js";
import type { Logger } from "../log.js";
import { INDEX_ENTRY_PATTERN } from "../fast-path/hit-index.js";
import { createFileStore } from "./file-store.js";
import { lockPathFor, withLock, type LockOptions } from "./lock.js";
import {
  createKeychainStore,
  describeKeychainFailure,
  isKeychainEntry,
  KeychainUnavailableError,
  loadKeytar,
  probeKeychain,
  type Keychain,
} from "./keychain-store.js";
import type { TokenStore } from "./store.js";
import { MAX_STATE_BYTES, refusalReporter } from "./trust.js";

export const CACHE_BACKENDS = ["auto", "file", "keychain"] as const;
export type CacheBackend = (typeof CACHE_BACKENDS)[number];

export interface CacheStores {
  readonly accessTokens: TokenStore;
  readonly longLived: TokenStore;
  /** One line for -v 1: where each kind of entry lives, and why. Reads a small file, loads nothing. */
  describe(): Promise<string>;
  /** Removes everything each store owns (remove-cache-dir), keychain items included. */
  clearAll(): Promise<void>;
}

export interface CacheSettings {
  readonly cacheDir: string;
  readonly now: () => number;
  /** Default `file`: the caller that has options passes the user's choice. */
  readonly backend?: CacheBackend;
  /** Where the choice came from, for messages ("default", "env KUBELOGIN_CACHE_BACKEND"). */
  readonly backendOrigin?: string;
  /** For the keychain's one-time warning and -v 1 lines. */
  readonly log?: Logger;
  /** The run's environment: with no D-Bus session on Linux there is no Secret Service to ask. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly platform?: NodeJS.Platform;
  /** How to take the cache dir's file lock, which every keychain call holds; without it, none is taken. */
  readonly lock?: () => LockOptions;
  /** The keychain library (keytar by default). */
  readonly keychain?: () => Promise<Keychain>;
}

/** token-<hash>.json (cache/token-cache.ts), and fast-<hash>.json, the fast path's index of them (fast-path/hit-index.ts). */
const isAccessTokenEntry = (name: string): boolean => /^token-[^/\\]+\.json$/.test(name) || INDEX_ENTRY_PATTERN.test(name);

/** Upstream's files (compat spec §4.1, §4.3), which kubelogin reads and writes under the same names. */
const UPSTREAM_FILES: ReadonlySet<string> = new Set(["auth.json", "pop_tokens.cache", "pop_rsa_key.cache"]);

/** What the automatic choice last found for this cache dir: so its fallback warning is said once. */
const BACKEND_STATE = "cache-backend.json";

/**
 * msal-<name>.json (MSAL cache blobs), auth-<hash>.json (a sign-in's auth record per authority,
 * tenant and client: login/auth-record.ts), upstream's auth record and PoP files, and the state above.
 */
const isLongLivedEntry = (name: string): boolean =>
  /^msal-[^/\\]+\.json$/.test(name) || /^auth-[0-9a-f]{40}\.json$/.test(name) || UPSTREAM_FILES.has(name) || name === BACKEND_STATE;

export function parseCacheBackend(value: string, origin: string): CacheBackend {
  if ((CACHE_BACKENDS as readonly string[]).includes(value)) return value as CacheBackend;
  throw new ValidationError(`cache backend ${JSON.stringify(value)} is not one of ${CACHE_BACKENDS.join(", ")}`, {
    hint: `the value came from ${origin}: pass --cache-backend (or KUBELOGIN_CACHE_BACKEND) as auto, file or keychain`,
  });
}

interface BackendState {
  readonly longLived: "keychain" | "file";
  readonly reason: string;
}

export function createStores(settings: CacheSettings): CacheStores {
  const { cacheDir, log } = settings;
  const backend = settings.backend ?? "file";
  const origin = settings.backendOrigin ?? "default";
  const env = settings.env ?? {};
  const refused = refusalReporter(log);
  const files = createFileStore({ dir: cacheDir, now: settings.now, owns: isLongLivedEntry, maxBytes: MAX_STATE_BYTES, refused });
  const accessTokens = createFileStore({ dir: cacheDir, now: settings.now, owns: isAccessTokenEntry, refused });

  let keychainLoad: Promise<Keychain> | undefined;
  const keychain = (): Promise<Keychain> => {
    if ((settings.platform ?? process.platform) === "linux" && !env.DBUS_SESSION_BUS_ADDRESS) {
      return Promise.reject(new KeychainUnavailableError("no D-Bus session to reach a Secret Service (DBUS_SESSION_BUS_ADDRESS is unset)"));
    }
    keychainLoad ??= (settings.keychain ?? loadKeytar)();
    return keychainLoad;
  };
  const exclusive = <T>(work: () => Promise<T>): Promise<T> =>
    settings.lock ? withLock(lockPathFor(cacheDir, BACKEND_STATE), settings.lock(), work) : work();
  const keychainStore = createKeychainStore({
    cacheDir,
    keychain,
    exclusive,
    cleared: (count, service) => log?.v(1, `removed ${count} item(s) of keychain service "${service}"`),
  });

  const readState = async (): Promise<BackendState | undefined> => {
    try {
      const parsed = JSON.parse((await files.read(BACKEND_STATE)) ?? "null") as BackendState | null;
      if (parsed?.longLived === "keychain" || parsed?.longLived === "file") return parsed;
    } catch {
      // None yet, or unreadable: as if never tried.
    }
    return undefined;
  };
  const remember = async (state: BackendState): Promise<boolean> => {
    const before = await readState();
    if (before?.longLived === state.longLived && before.reason === state.reason) return false;
    // Best effort: a cache dir that cannot hold this file cannot hold the cache either, and says so elsewhere.
    await files.write(BACKEND_STATE, JSON.stringify(state)).catch(() => undefined);
    return before?.longLived !== state.longLived;
  };

  /** Decided once per process, on the first use of the long-lived store. */
  let chosen: Promise<EntryStore> | undefined;
  const choose = async (): Promise<EntryStore> => {
    if (backend === "file") {
      log?.v(1, `long-lived cache entries: files in ${cacheDir} (${origin} chose the file backend)`);
      return files;
    }
    let found: string;
    try {
      const loaded = await keychain();
      found = (await exclusive(() => probeKeychain(loaded, cacheDir))) === "has-items" ? "it holds our items" : "it accepted a write";
    } catch (err) {
      const reason = err instanceof KeychainUnavailableError ? err.message : `the keychain refused access: ${describeKeychainFailure(err)}`;
      if (backend === "keychain") {
        throw new KeychainUnavailableError(`the OS keychain is not available: ${reason}`, {
          hint: `${origin} asked for the keychain backend: unlock the keychain or start a Secret Service (e.g. gnome-keyring), or use --cache-backend file`,
          cause: err,
        });
      }
      if (await remember({ longLived: "file", reason })) {
        log?.warn(`the OS keychain is not available (${reason}); refresh tokens are kept in 0600 files in ${cacheDir} instead (said once for this cache dir; --cache-backend file or KUBELOGIN_CACHE_BACKEND=file chooses this without trying)`);
      }
      log?.v(1, `long-lived cache entries: files in ${cacheDir} (auto: the OS keychain is not available: ${reason})`);
      return files;
    }
    await remember({ longLived: "keychain", reason: found });
    log?.v(1, `long-lived cache entries: the OS keychain (${backend === "auto" ? `auto: ${found}` : `${origin} chose the keychain backend`})`);
    return routing(keychainStore, files);
  };
  const active = (): Promise<EntryStore> => (chosen ??= choose());

  const longLived: TokenStore = {
    location: cacheDir,
    lockDir: cacheDir,
    read: async (name) => (await active()).read(name),
    write: async (name, content) => (await active()).write(name, content),
    setAside: async (name) => (await active()).setAside(name),
    verify: async () => void (await active()),
    async clear() {
      // Whatever the backend now, items an earlier run put in the keychain go too (decision 4).
      await files.clear();
      await keychainStore.clear().catch((err: unknown) => {
        if (!(err instanceof KubeloginError)) throw err;
        log?.v(1, `no keychain items removed: ${err.message}`);
      });
    },
  };

  return {
    accessTokens,
    longLived,
    async describe() {
      const why =
        backend === "auto"
          ? describeAuto(await readState())
          : `in ${backend === "file" ? "0600 files" : "the OS keychain"} (${origin} chose the ${backend} backend)`;
      return `cache backend: ${backend}; access tokens in 0600 files in ${cacheDir}; long-lived entries ${why}`;
    },
    async clearAll() {
      // A failure in one store must not leave the other's credentials behind: clear both, then report.
      const results = await Promise.allSettled([accessTokens.clear(), longLived.clear()]);
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}

function describeAuto(state: BackendState | undefined): string {
  if (!state) return "in the OS keychain if it is reachable and unlocked, else in files (auto: not tried yet for this cache dir)";
  if (state.longLived === "keychain") return `in the OS keychain (auto: at the last sign-in or refresh ${state.reason})`;
  return `in 0600 files (auto: at the last sign-in or refresh the OS keychain was not available: ${state.reason})`;
}

/**
 * What the chosen backend serves: longLived keeps its own location and lock dir, and its clear()
 * empties every backend whatever was chosen.
 */
type EntryStore = Pick<TokenStore, "read" | "write" | "setAside">;

/** With the keychain active: MSAL's blobs in it, every other long-lived entry a file as before. */
function routing(keychain: TokenStore, files: TokenStore): EntryStore {
  const pick = (name: string): TokenStore => (isKeychainEntry(name) ? keychain : files);
  return {
    read: (name) => pick(name).read(name),
    write: (name, content) => pick(name).write(name, content),
    setAside: (name) => pick(name).setAside(name),
  };
}
