// The OS keychain backend (decisions 1 and 10) for the long-lived entries that hold secrets: MSAL's
// cache blobs (`msal-*.json`: refresh tokens and accounts). Access tokens stay 0600 files, so a
// cached get-token never loads the native addon or talks to D-Bus; auth records stay files too,
// because plan() reads them on that cached path and they hold no secret (an account id and name).
//
// The library is keytar 7.9.0, as the design names it, an optionalDependency loaded here only when
// this backend is in use. Measured against @napi-rs/keyring 2.1.2 on this machine: both behave the
// same with a locked Secret Service (reads answer nothing, writes are refused in 30-70 ms) and with
// none (every call fails in under 5 ms); keytar loads in 6-10 ms against 9-40 ms. keytar's cost is
// its install: with no prebuilt binary reachable it compiles (libsecret-1-dev and a C++ compiler),
// and without them `npm ci` still succeeds but leaves it out; this backend then reports the
// keychain unavailable, as it does in a container without a Secret Service.
import { randomBytes } from "node:crypto";
import { realpath, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { CacheError, KubeloginError } from "../errors.js";
import { isErrno } from "../os-error.js";
import { mergeMsalCache } from "./msal-merge.js";
import type { TokenStore } from "./store.js";
import { currentUid, MAX_STATE_BYTES, readCacheFile } from "./trust.js";

/** What this backend needs from a keychain library (keytar's calls, by name). */
export interface Keychain {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

/** The keychain could not be used: the addon is missing, or the Secret Service is absent or locked. */
export class KeychainUnavailableError extends KubeloginError {}

/** The entries the keychain holds: MSAL's cache blobs. */
const isMsalBlob = (name: string): boolean => /^msal-[^/\\#]+\.json$/.test(name);
/** MSAL's blobs and the PoP key (login/pop.ts): the long-lived secrets of decision 10. */
export const isKeychainEntry = (name: string): boolean => isMsalBlob(name) || name === "pop_rsa_key.cache";

/** keytar, loaded on first use; any failure to load it means "no keychain here". */
export async function loadKeytar(): Promise<Keychain> {
  try {
    // Imported here, not at the top: this module is on the cached path, which never needs keytar.
    const { importKeytar } = await import("./keytar-addon.js");
    const mod = (await importKeytar()) as { default?: Keychain } & Keychain;
    return mod.default ?? mod;
  } catch (err) {
    throw new KeychainUnavailableError(`the keytar module cannot be loaded (${describeKeychainFailure(err)})`, {
      hint: "install kubelogin's optional dependency keytar (on Linux it builds against libsecret-1-dev), or use --cache-backend file",
      cause: err,
    });
  }
}

/**
 * Windows Credential Manager keeps 2560 bytes per item. A blob is deflated and base64'd (tokens are
 * random, so that alone is not enough) and split into items of this many characters.
 */
export const DEFAULT_CHUNK_CHARS = 2000;
const FORMAT = "kubelogin-v1";

export interface KeychainStoreSettings {
  readonly cacheDir: string;
  readonly keychain: () => Promise<Keychain>;
  readonly chunkChars?: number;
  /**
   * Runs keychain calls one process at a time (the cache dir's file lock): libsecret reads an item
   * that another process is still creating as a NULL secret, and keytar crashes on it.
   */
  readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  /** Told how many items clear() removed (remove-cache-dir says it at -v 1). */
  readonly cleared?: (count: number, service: string) => void;
}

/** The keychain service of a cache dir: each cache dir is its own cache, with its own items. */
export async function keychainService(cacheDir: string): Promise<string> {
  const dir = await realpath(cacheDir).catch(() => resolve(cacheDir));
  return `kubelogin ${dir}`;
}

/**
 * A store of keychain items for `msal-*.json` entries. An entry is a head item (account = the entry
 * name: format, generation, item count, first chunk) plus items `<entry>#<generation>#<i>`. A write
 * stores the new generation's chunks, then switches the head, then deletes the old chunks; writes
 * run under the entry's file lock (cache/msal-plugin.ts), reads don't, so a read that finds a chunk
 * gone reads the head again. Any file copy of the entry left from the file backend is folded in on
 * read and deleted once the keychain holds it, so no refresh token stays in a plain file.
 */
export function createKeychainStore(settings: KeychainStoreSettings): TokenStore {
  const { cacheDir } = settings;
  const chunkChars = settings.chunkChars ?? DEFAULT_CHUNK_CHARS;
  const owned = (name: string): string => {
    if (!isKeychainEntry(name)) throw new Error(`the keychain store does not own the entry ${name}`);
    return name;
  };
  const call = async <T>(action: string, work: (keychain: Keychain, service: string) => Promise<T>): Promise<T> => {
    const keychain = await settings.keychain();
    const service = await keychainService(cacheDir);
    try {
      return await settings.exclusive(() => work(keychain, service));
    } catch (err) {
      throw new CacheError(`could not ${action} the OS keychain (service "${service}"): ${describeKeychainFailure(err)}`, {
        hint: "unlock the keychain (on Linux: the Secret Service, e.g. gnome-keyring), or use --cache-backend file",
        cause: err,
      });
    }
  };

  const readKeychain = async (name: string): Promise<string | null> =>
    call("read", async (keychain, service) => {
      for (let attempt = 0; ; attempt++) {
        const head = await keychain.getPassword(service, name);
        if (typeof head !== "string") return null;
        const parsed = parseHead(head);
        // Not ours (written by hand or another tool): handed on as it is, MSAL's plugin sets it aside.
        if (!parsed) return head;
        const chunks: Array<string | null> = [parsed.first];
        for (let i = 1; i < parsed.count; i++) chunks.push(await keychain.getPassword(service, chunkAccount(name, parsed.generation, i)));
        if (chunks.every((chunk): chunk is string => typeof chunk === "string")) return decode(chunks.join(""));
        // A writer switched generations between our reads: read the new head (the writer holds the lock, so it settles).
        if (attempt >= 3) throw new Error(`the items of ${name} kept changing while read`);
      }
    });

  const fileOf = (name: string): string => join(cacheDir, name);
  const readFile = async (name: string): Promise<string | null> => {
    try {
      const read = await readCacheFile(fileOf(name), currentUid(), MAX_STATE_BYTES);
      // A file another user could have written, or a FIFO: not a blob to merge (the file store reports and sets it aside).
      return read.kind === "text" ? read.text : null;
    } catch (err) {
      throw new CacheError(`could not read ${fileOf(name)}: ${describeKeychainFailure(err)}`, { cause: err });
    }
  };

  return {
    location: "the OS keychain",
    lockDir: cacheDir,
    async read(name) {
      const inKeychain = await readKeychain(owned(name));
      const inFile = await readFile(name);
      if (inFile === null) return inKeychain;
      if (inKeychain === null) return inFile;
      // Both: the file was written while the keychain was unavailable (locked). Keep the sign-ins of
      // both; of two PoP keys the keychain's, which the cached PoP tokens are bound to.
      return isMsalBlob(name) ? mergeMsalCache(null, inFile, inKeychain) : inKeychain;
    },
    async write(name, content) {
      await call("write to", async (keychain, service) => {
        const data = encode(content);
        const generation = randomBytes(4).toString("hex");
        const parts: string[] = [];
        // Never empty: deflate writes at least a final block.
        for (let at = 0; at < data.length; at += chunkChars) parts.push(data.slice(at, at + chunkChars));
        for (let i = 1; i < parts.length; i++) await keychain.setPassword(service, chunkAccount(owned(name), generation, i), parts[i]!);
        await keychain.setPassword(service, owned(name), `${FORMAT}:${generation}:${parts.length}:${parts[0]}`);
        const stale = (await keychain.findCredentials(service)).filter(
          (item) => item.account.startsWith(`${name}#`) && !item.account.startsWith(`${name}#${generation}#`),
        );
        for (const item of stale) await keychain.deletePassword(service, item.account);
      });
      // The keychain holds it now: a plain-file copy (file backend, or an earlier fallback) must go.
      await unlink(fileOf(name)).catch((err: unknown) => {
        if (!isErrno(err, "ENOENT")) throw new CacheError(`could not remove ${fileOf(name)}: ${describeKeychainFailure(err)}`, { cause: err });
      });
    },
    async setAside(name) {
      // Kept for inspection as its own item, beside the entry; clear() removes it with the rest.
      // Stryker disable next-line StringLiteral: the action only words the CacheError, which setAside turns into undefined
      return call("set aside an item in", async (keychain, service) => {
        const content = await keychain.getPassword(service, owned(name));
        if (typeof content !== "string") return undefined;
        const aside = `${name}.corrupt-${Date.now()}`;
        await keychain.setPassword(service, aside, content);
        await keychain.deletePassword(service, name);
        return `keychain item "${aside}" of service "${service}"`;
      }).catch(() => undefined);
    },
    async clear() {
      await call("remove items from", async (keychain, service) => {
        const items = await keychain.findCredentials(service);
        for (const item of items) await keychain.deletePassword(service, item.account);
        settings.cleared?.(items.length, service);
      });
    },
  };
}

function chunkAccount(name: string, generation: string, index: number): string {
  return `${name}#${generation}#${index}`;
}

function parseHead(head: string): { generation: string; count: number; first: string } | undefined {
  // The first chunk runs to the end, newlines included.
  const match = /^kubelogin-v1:([0-9a-f]{8}):([1-9][0-9]*):(.*)/s.exec(head);
  if (!match) return undefined;
  return { generation: match[1]!, count: Number(match[2]), first: match[3]! };
}

function encode(content: string): string {
  return deflateRawSync(Buffer.from(content)).toString("base64");
}

function decode(data: string): string {
  try {
    return inflateRawSync(Buffer.from(data, "base64")).toString("utf8");
  } catch {
    // Not a blob we wrote: MSAL's plugin finds it unreadable and sets it aside.
    return "";
  }
}

/** The first line of a keychain library error (libsecret and D-Bus errors can run long). */
export function describeKeychainFailure(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
}

/**
 * Whether the keychain is reachable and unlocked, as cheaply as that can be told: items found means
 * unlocked (a locked Secret Service lists none); else a throwaway item must be accepted, because a
 * locked one answers reads with nothing and only refuses writes. Absent: fails in milliseconds.
 */
export async function probeKeychain(keychain: Keychain, cacheDir: string): Promise<"has-items" | "writable"> {
  const service = await keychainService(cacheDir);
  if ((await keychain.findCredentials(service)).length > 0) return "has-items";
  const account = `kubelogin-probe-${randomBytes(4).toString("hex")}`;
  // Stryker disable next-line StringLiteral: any secret does for a probe item, deleted at once
  await keychain.setPassword(service, account, "probe");
  await keychain.deletePassword(service, account);
  return "writable";
}
