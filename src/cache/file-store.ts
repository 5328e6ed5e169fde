// The file backend (decision 1): one file per entry in the cache dir, directory 0700, files 0600,
// written to a temp file in the same directory and renamed over the old one. Each store owns a
// set of entry names, so that clearing one removes its files and nothing else in a directory that
// may be kubectl's cache dir too (KUBECACHEDIR, decision 4).
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { CacheError } from "../errors.js";
import { goPathError, isErrno } from "../os-error.js";
import type { TokenStore } from "./store.js";
import { cacheDirRefusal, currentUid, MAX_ENTRY_BYTES, readCacheFile } from "./trust.js";

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** A temp file left by a write this old was orphaned by a killed process (a write takes milliseconds). */
export const ORPHANED_TEMP_MS = 60_000;

/**
 * What kubelogin puts beside an entry: its lock (cache/lock.ts: `.lock`, the `.lock.break` guard,
 * a lock being broken `.lock.stale-<pid>`), a set-aside copy (`.corrupt-<time>`) and a write's
 * temp file (`.<12 hex>.tmp`).
 */
const COMPANION = /\.lock(?:\.break|\.stale-\d+)?$|\.corrupt-[0-9TZ-]+$|\.[0-9a-f]{12}\.tmp$/;
const TEMP = /\.[0-9a-f]{12}\.tmp$/;

/** The entry a cache-dir file belongs to: the entry itself, or the one a companion file is beside. */
function entryOf(fileName: string): string {
  return fileName.replace(COMPANION, "");
}

export interface FileStoreSettings {
  readonly dir: string;
  readonly now: () => number;
  /** The entry names this store owns; it reads, writes and clears no others. */
  readonly owns: (entryName: string) => boolean;
  /** The largest file read as an entry (MAX_ENTRY_BYTES by default). */
  readonly maxBytes?: number;
  /** Told of a file or directory another user could have written (trust.ts), which is then neither read nor written. */
  readonly refused?: ((path: string, reason: string) => void) | undefined;
  /** The user the files must belong to (the process's by default; undefined where there are no uids). */
  readonly uid?: number | undefined;
}

export function createFileStore(settings: FileStoreSettings): TokenStore {
  const { dir, now, owns } = settings;
  const uid = "uid" in settings ? settings.uid : currentUid();
  const maxBytes = settings.maxBytes ?? MAX_ENTRY_BYTES;
  /** True, once reported, when someone else could write the dir: nothing in it is read, nothing is put in it. */
  const dirRefused = async (): Promise<boolean> => {
    const reason = await cacheDirRefusal(dir, uid);
    if (reason !== undefined) settings.refused?.(dir, reason);
    return reason !== undefined;
  };
  const pathOf = (name: string): string => {
    if (dir === "") throw emptyCacheDirError();
    // A programming error, not a cache failure: an entry outside the store would survive clear().
    if (!owns(name) || name.includes("/") || name.includes("\\")) throw new Error(`the cache store in ${dir} does not own the entry ${name}`);
    return join(dir, name);
  };

  /** This store's files in the dir, by name; none when the dir does not exist. */
  const ownFiles = async (): Promise<string[]> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      // Stryker disable next-line ArrayDeclaration: with no dir, any name listed fails stat and unlink with ENOENT, which every caller skips
      if (isErrno(err, "ENOENT")) return [];
      throw cacheError("list", dir, err);
    }
    return names.filter((name) => owns(entryOf(name)));
  };

  /** Removes this store's temp files orphaned by a killed write; best effort, a write must not fail on it. */
  const removeOrphanedTemps = async (): Promise<void> => {
    const temps = (await ownFiles().catch(() => [])).filter((name) => TEMP.test(name));
    for (const name of temps) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile() && now() - info.mtimeMs > ORPHANED_TEMP_MS) await unlink(path).catch(() => undefined);
    }
  };

  return {
    location: dir,
    lockDir: dir,
    async read(name) {
      const path = pathOf(name);
      if (await dirRefused()) return null;
      let read;
      try {
        read = await readCacheFile(path, uid, maxBytes);
      } catch (err) {
        throw cacheError("read", path, err);
      }
      switch (read.kind) {
        case "text":
          return read.text;
        case "missing":
          return null;
        case "refused":
          settings.refused?.(path, read.reason);
          return null;
        case "not-an-entry":
          // No entry can be read from it: empty content, which every reader takes for a corrupt entry and sets aside.
          return "";
      }
    },
    async write(name, content) {
      const target = pathOf(name);
      // The temp file is created exclusively and renamed over the name, so nothing already there is written through.
      if (await dirRefused()) return;
      await ensurePrivateDir(dir);
      const temp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        const handle = await open(temp, "wx", FILE_MODE);
        try {
          await handle.writeFile(content);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, target);
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw cacheError("write", target, err);
      }
      await removeOrphanedTemps();
    },
    async setAside(name) {
      const path = pathOf(name);
      if (await dirRefused()) return undefined;
      const aside = `${path}.corrupt-${new Date(now()).toISOString().replace(/[:.]/g, "-")}`;
      return rename(path, aside).then(
        () => aside,
        () => undefined,
      );
    },
    async clear() {
      let first: CacheError | undefined;
      for (const name of await ownFiles()) {
        const path = join(dir, name);
        try {
          await unlink(path);
        } catch (err) {
          // Gone meanwhile (a lock released, a temp file renamed): nothing left to remove. Any other
          // failure is reported, after removing the rest: credentials must not stay for one bad file.
          if (!isErrno(err, "ENOENT")) first ??= cacheError("remove", path, err);
        }
      }
      if (first) throw first;
    },
  };
}

/** mkdir -p with 0700 (a umask can only remove bits). An existing directory is left as its owner set it. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  if (dir === "") throw emptyCacheDirError();
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    throw cacheError("create the cache directory", dir, err);
  }
}

/**
 * An empty cache dir names no directory: its entries would be read from and written to whatever
 * the working directory is, and a lock beside them would land in /. Only a flag can make it empty
 * (an empty KUBECACHEDIR means the default).
 */
export function emptyCacheDirError(): CacheError {
  return new CacheError(`the cache directory is empty (--cache-dir "")`, {
    hint: "name a directory with --cache-dir (or the deprecated --token-cache-dir), or leave the flag out to use KUBECACHEDIR or ~/.kube/cache/kubelogin/",
  });
}

/** A CacheError for a filesystem failure on `path`, keeping the OS error as its cause. */
export function cacheError(action: string, path: string, err: unknown): CacheError {
  // The OS error's own op and path only when they add something (a parent dir, the temp file).
  const detail = isErrno(err) && err.path === path ? goPathError(err, "") : goPathError(err);
  return new CacheError(`could not ${action} ${path}: ${detail}`, {
    hint: "check that the cache dir (--cache-dir or KUBECACHEDIR) is a directory you can write",
    cause: err,
  });
}
