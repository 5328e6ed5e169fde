// Whom the cache trusts: a cache entry, the fast path's index or an auth record is used only when
// this user alone could have written it — a regular file owned by the user, writable by no group
// or other, in a directory of the same kind. In a shared cache dir (a CI agent's or a jump host's
// 1777 KUBECACHEDIR) another user could otherwise plant an entry and have their token served, or
// replace one between our check and our read. Where the platform has no owners (Windows: no uid),
// nothing is refused. Light on purpose: the fast path uses it, and it loads only node:fs.
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import { open, stat } from "node:fs/promises";

/**
 * Entries, indexes and auth records are a few hundred bytes: a larger file is no entry of ours, and
 * reading a huge one would cost the call its memory. MSAL's cache blob grows with accounts and
 * resources (tens of KB in practice), so the long-lived store allows more.
 */
export const MAX_ENTRY_BYTES = 1024 * 1024;
export const MAX_STATE_BYTES = 64 * 1024 * 1024;

/**
 * Opened without following a symlink (a link to /dev/zero) and without blocking (a FIFO would
 * wait for a writer forever); what was opened is then checked through its descriptor, so a file
 * swapped in after the check is never the one read.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

interface Owned {
  readonly uid: number;
  readonly mode: number;
}

/** The current user, or undefined where the platform has no uids (nothing is refused there). */
export const currentUid = (): number | undefined => process.getuid?.();

/** Why `info` could have been written by someone else, or undefined when only `uid` could have. */
export function foreignWriter(info: Owned, uid: number | undefined): string | undefined {
  if (uid === undefined || uid < 0) return undefined;
  if (info.uid !== uid) return `it belongs to uid ${info.uid}, not to this user (uid ${uid})`;
  if ((info.mode & 0o022) !== 0) return `it is writable by its group or others (mode 0${(info.mode & 0o7777).toString(8)})`;
  return undefined;
}

/** Why a cache dir is not the user's alone, or undefined when it is (or does not exist yet: it is then made 0700). */
export async function cacheDirRefusal(dir: string, uid: number | undefined): Promise<string | undefined> {
  if (uid === undefined || uid < 0) return undefined;
  const info = await stat(dir).catch(() => undefined);
  // Not a directory: every use of it fails on its own, as before.
  return info === undefined || !info.isDirectory() ? undefined : foreignWriter(info, uid);
}

export type CacheFileRead =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "missing" }
  /** Someone else could have written it: not read, not used. */
  | { readonly kind: "refused"; readonly reason: string }
  /** A FIFO, a device, a symlink, a directory or a file too large: no entry, to be set aside. */
  | { readonly kind: "not-an-entry"; readonly reason: string };

/** Reads a cache file by the rules above; other failures to open or read (EACCES) are thrown. */
export async function readCacheFile(path: string, uid: number | undefined, maxBytes: number): Promise<CacheFileRead> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "missing" };
    // O_NOFOLLOW refuses a symlink with ELOOP (EMLINK on FreeBSD); a device that cannot be opened non-blocking says ENXIO.
    if (code === "ELOOP" || code === "EMLINK" || code === "ENXIO") return { kind: "not-an-entry", reason: "it is a symbolic link or a device" };
    throw err;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { kind: "not-an-entry", reason: "it is not a regular file" };
    const refusal = foreignWriter(info, uid);
    if (refusal !== undefined) return { kind: "refused", reason: refusal };
    if (info.size > maxBytes) return { kind: "not-an-entry", reason: `it is larger than ${maxBytes} bytes` };
    const bytes = await handle.readFile();
    // Grown since the stat: the same as too large.
    if (bytes.length > maxBytes) return { kind: "not-an-entry", reason: `it is larger than ${maxBytes} bytes` };
    return { kind: "text", text: bytes.toString("utf8") };
  } finally {
    await handle.close();
  }
}

/**
 * The fast path's read: the text of a file that passes every rule, else a throw (the fast path
 * answers nothing, and the full CLI meets the same file, reports it and deals with it). Only the
 * descriptor already opened is stat'ed.
 */
export function readTrustedFileSync(path: string, uid: number): string {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || foreignWriter(info, uid) !== undefined || info.size > MAX_ENTRY_BYTES) throw new Error("untrusted");
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

/** The fast path's directory check: a directory only this user can write to, else a throw. */
export function assertTrustedDirSync(dir: string, uid: number): void {
  if (foreignWriter(statSync(dir), uid) !== undefined) throw new Error("untrusted");
}

/** Reports each refused path once per process at -v 1, however many times the run meets it. */
export function refusalReporter(log: { v(level: number, message: string): void } | undefined): (path: string, reason: string) => void {
  if (!log) return () => undefined;
  let reported = REPORTED.get(log);
  if (!reported) REPORTED.set(log, (reported = new Set()));
  const seen = reported;
  return (path, reason) => {
    if (seen.has(path)) return;
    seen.add(path);
    log.v(1, `not using ${path} from the cache: ${reason}, so another user could have written it`);
  };
}

const REPORTED = new WeakMap<object, Set<string>>();
