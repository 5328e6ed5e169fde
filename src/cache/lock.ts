// Cross-process lock beside the cache entry (never on it). Unlike msal-node-extensions'
// CrossPlatformLock, a lock left by a crashed process is broken, and waiting is bounded by an
// honest, typed timeout instead of proceeding unlocked. A lock is stale when its holder is gone or
// when it has not been refreshed for STALE_MS: its pid alone cannot tell, because after a reboot
// or in a container (PID 1) a dead holder's pid can belong to a live, unrelated process.
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { open, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import { CacheError, CacheLockTimeoutError, type LockHolder } from "../errors.js";
import { isErrno } from "../os-error.js";
import type { Clock } from "../runtime.js";
import { cacheError, emptyCacheDirError, ensurePrivateDir } from "./file-store.js";
import { cacheDirRefusal, currentUid } from "./trust.js";

/** A holder touches its lock this often, so a long hold (a device-code sign-in waiting on a person) stays fresh. */
const REFRESH_MS = 5_000;
/** A lock not touched for this long is abandoned, whatever its pid: six refreshes missed. */
export const STALE_MS = 30_000;
/** Creating and writing a lock takes microseconds; an unreadable one this old was left by a crash. */
const UNREADABLE_STALE_MS = 5_000;
/**
 * A waiter's retry interval doubles up to this many times the first. Each look at the lock costs
 * about a millisecond of CPU: 15 waiters looking every 25 ms took half a core of a loaded 2-core
 * machine from the holder they were all waiting for. At 250 ms a release is seen within a quarter
 * second.
 */
const BACKOFF_LIMIT = 10;

export interface LockOptions {
  readonly clock: Clock;
  readonly pid: number;
  readonly isProcessAlive: (pid: number) => boolean;
  readonly timeoutMs: number;
  readonly retryMs?: number;
  /** Defaults to STALE_MS. */
  readonly staleMs?: number;
  /** Defaults to REFRESH_MS. */
  readonly refreshMs?: number;
}

/** The lock beside entry `name` in `dir`: with an empty dir it would be at / or in the working directory, so none. */
export function lockPathFor(dir: string, name: string): string {
  if (dir === "") throw emptyCacheDirError();
  return join(dir, `${name}.lock`);
}

export async function withLock<T>(lockPath: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  // A dir another user could write holds no cache (trust.ts): there is nothing to guard, and no lock file goes there.
  if ((await cacheDirRefusal(dirname(lockPath), currentUid())) !== undefined) return work();
  const release = await acquireLock(lockPath, options);
  try {
    return await work();
  } finally {
    await release();
  }
}

export async function acquireLock(lockPath: string, options: LockOptions): Promise<() => Promise<void>> {
  const { clock, timeoutMs } = options;
  const retryMs = options.retryMs ?? 25;
  let interval = retryMs;
  const started = clock.now();
  await ensurePrivateDir(dirname(lockPath));
  for (;;) {
    // `since` is when the lock is taken, not when waiting began.
    const mine = await tryCreate(lockPath, { pid: options.pid, host: hostname(), since: clock.now() }, clock).catch(async (err: unknown) => {
      // The cache dir was removed (remove-cache-dir) while waiting: make it again and retry.
      if (!(err instanceof CacheError && isErrno(err.cause, "ENOENT"))) throw err;
      await ensurePrivateDir(dirname(lockPath));
      return undefined;
    });
    if (mine !== undefined) return holdLock(lockPath, mine, options);
    const holder = await breakIfStale(lockPath, options);
    const waited = clock.now() - started;
    if (waited >= timeoutMs) throw new CacheLockTimeoutError(lockPath, waited, holder);
    await clock.sleep(Math.min(interval, timeoutMs - waited));
    interval = Math.min(interval * 2, retryMs * BACKOFF_LIMIT);
  }
}

/** Keeps the lock fresh while it is held (a timer that never keeps the process alive); returns its release. */
function holdLock(lockPath: string, mine: string, options: LockOptions): () => Promise<void> {
  const timer = setInterval(() => void refresh(lockPath, mine, options.clock), options.refreshMs ?? REFRESH_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await release(lockPath, mine);
  };
}

/** Touches the lock while it is still the one this process wrote; best effort, like the refresh it stands for. */
async function refresh(lockPath: string, mine: string, clock: Clock): Promise<void> {
  const current = await readFile(lockPath, "utf8").catch(() => undefined);
  if (current !== mine) return;
  const at = new Date(clock.now());
  await utimes(lockPath, at, at).catch(() => undefined);
}

/**
 * Removes the lock only while it is still the one this process wrote: had it been broken as stale
 * and taken by another process, deleting it would let a third one in beside that holder.
 */
async function release(lockPath: string, mine: string): Promise<void> {
  const current = await readFile(lockPath, "utf8").catch(() => undefined);
  if (current === mine) await unlink(lockPath).catch(() => undefined);
}

/**
 * Creates `path` exclusively with the holder's JSON in it, its mtime on `clock` (waiters judge its
 * age by that clock); the content written, or undefined if the lock exists.
 */
async function tryCreate(path: string, holder: LockHolder, clock: Clock): Promise<string | undefined> {
  const raw = JSON.stringify(holder);
  let handle;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (err) {
    if (isErrno(err, "EEXIST")) return undefined;
    throw cacheError("create the lock", path, err);
  }
  try {
    await handle.writeFile(raw);
    const at = new Date(clock.now());
    await handle.utimes(at, at);
  } catch (err) {
    // Never leave an empty lock behind (a full disk): every waiter would stall until it looks abandoned.
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw cacheError("write the lock", path, err);
  }
  // The content is written; a failing close() must not strand a lock that names a live process.
  await handle.close().catch(() => undefined);
  return raw;
}

interface LockContent {
  raw: string;
  holder: LockHolder | undefined;
  modifiedAt: number;
}

/** The lock as it is now, or undefined when there is none (released meanwhile). */
async function readLock(path: string): Promise<LockContent | undefined> {
  let modifiedAt: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      // Not something kubelogin makes, and not safe to delete with whatever is in it: waiting
      // would never end, so say so at once.
      throw new CacheError(`the cache lock ${path} is a directory, not a lock file`, {
        hint: `kubelogin never creates a directory there; remove ${path}`,
      });
    }
    modifiedAt = info.mtimeMs;
  } catch (err) {
    if (err instanceof CacheError) throw err;
    return undefined;
  }
  const raw = await readFile(path, "utf8").catch(() => undefined);
  if (raw === undefined) return undefined;
  return { raw, holder: parseHolder(raw), modifiedAt };
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(raw) as Partial<LockHolder>;
    const { pid, host, since } = parsed;
    // Shown in the timeout hint, so only values that make sense there (a date, one line). A holder
    // that fails this is judged as unreadable, so the host check must accept any real hostname.
    if (
      Number.isSafeInteger(pid) && pid! > 0 &&
      typeof host === "string" && host.length <= 255 && !/[\x00-\x1f\x7f]/.test(host) &&
      Number.isSafeInteger(since) && since! >= 0 && since! < 8.64e15
    ) {
      return { pid: pid!, host, since: since! };
    }
  } catch {
    // Half-written: its creator is between open() and write(), or crashed there.
  }
  return undefined;
}

function isStale(lock: LockContent, options: LockOptions): boolean {
  const age = options.clock.now() - lock.modifiedAt;
  // Not refreshed: its holder is gone or hung, whatever now answers to its pid.
  if (age > (options.staleMs ?? STALE_MS)) return true;
  if (!lock.holder) return age > UNREADABLE_STALE_MS;
  // Another host's pids cannot be probed from here; only the age above tells.
  return lock.holder.host === hostname() && !options.isProcessAlive(lock.holder.pid);
}

/**
 * Breaks the lock if it is stale; returns its holder when it is live (for the timeout message).
 * Two waiters may both see a stale lock; if both simply unlinked, the slower one could delete
 * the lock the faster one has just taken. So breaking is itself guarded by a short-lived
 * `.break` lock, and the lock is re-read under it.
 */
async function breakIfStale(lockPath: string, options: LockOptions): Promise<LockHolder | undefined> {
  const seen = await readLock(lockPath);
  if (!seen) return undefined;
  if (!isStale(seen, options)) return seen.holder;
  const breakPath = `${lockPath}.break`;
  const breaker: LockHolder = { pid: options.pid, host: hostname(), since: options.clock.now() };
  if ((await tryCreate(breakPath, breaker, options.clock)) === undefined) {
    const other = await readLock(breakPath);
    if (other && isStale(other, options)) await unlink(breakPath).catch(() => undefined);
    return undefined;
  }
  try {
    const current = await readLock(lockPath);
    // The same bytes and mtime: still the lock judged stale, not one taken (or refreshed) since.
    if (current && current.raw === seen.raw && current.modifiedAt === seen.modifiedAt) {
      const aside = `${lockPath}.stale-${options.pid}`;
      try {
        await rename(lockPath, aside);
      } catch (err) {
        // Its (foreign, slow) holder released it meanwhile: nothing to break.
        if (isErrno(err, "ENOENT")) return undefined;
        throw cacheError("break the stale lock", lockPath, err);
      }
      await unlink(aside).catch(() => undefined);
    }
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
  return undefined;
}
