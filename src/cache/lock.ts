// Cross-process lock beside the cache entry (never on it). Unlike msal-node-extensions'
// CrossPlatformLock, a lock left by a crashed process is broken (its holder's pid is dead), and
// waiting is bounded by an honest, typed timeout instead of proceeding unlocked.
import { hostname } from "node:os";
import { dirname } from "node:path";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import { CacheLockTimeoutError } from "../errors.js";
import type { Clock } from "../runtime.js";
import { ensurePrivateDir } from "./file-store.js";

export interface LockOptions {
  readonly clock: Clock;
  readonly pid: number;
  readonly isProcessAlive: (pid: number) => boolean;
  readonly timeoutMs: number;
  readonly retryMs?: number;
  /** A lock from another host cannot be probed by pid; past this age it is treated as abandoned. */
  readonly foreignStaleMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  since: number;
}

export async function withLock<T>(lockPath: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
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
  const started = clock.now();
  await ensurePrivateDir(dirname(lockPath));
  for (;;) {
    // `since` is when the lock is taken, not when waiting began: a foreign host judges its age by it.
    const mine = await tryCreate(lockPath, { pid: options.pid, host: hostname(), since: clock.now() }).catch(async (err: unknown) => {
      // The cache dir was removed (remove-tokens) while waiting: make it again and retry.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      await ensurePrivateDir(dirname(lockPath));
      return undefined;
    });
    if (mine !== undefined) return () => release(lockPath, mine);
    await breakIfStale(lockPath, options);
    const waited = clock.now() - started;
    if (waited >= timeoutMs) throw new CacheLockTimeoutError(lockPath, waited);
    await clock.sleep(Math.min(retryMs, timeoutMs - waited));
  }
}

/**
 * Removes the lock only while it is still the one this process wrote: had it been broken as stale
 * and taken by another process, deleting it would let a third one in beside that holder.
 */
async function release(lockPath: string, mine: string): Promise<void> {
  const current = await readFile(lockPath, "utf8").catch(() => undefined);
  if (current === mine) await unlink(lockPath).catch(() => undefined);
}

/** Creates `path` exclusively with the holder's JSON in it; the content written, or undefined if it exists. */
async function tryCreate(path: string, holder: Holder): Promise<string | undefined> {
  const raw = JSON.stringify(holder);
  let handle;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw err;
  }
  try {
    await handle.writeFile(raw);
  } catch (err) {
    // Never leave an empty lock behind (a full disk): every waiter would stall until it looks abandoned.
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
  // The content is written; a failing close() must not strand a lock that names a live process.
  await handle.close().catch(() => undefined);
  return raw;
}

interface LockContent {
  raw: string;
  holder: Holder | undefined;
  modifiedAt: number;
}

async function readLock(path: string): Promise<LockContent | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { raw, holder: parseHolder(raw), modifiedAt: info.mtimeMs };
  } catch {
    return undefined;
  }
}

function parseHolder(raw: string): Holder | undefined {
  try {
    const parsed = JSON.parse(raw) as Partial<Holder>;
    if (typeof parsed.pid === "number" && typeof parsed.host === "string" && typeof parsed.since === "number") {
      return parsed as Holder;
    }
  } catch {
    // Half-written: its creator is between open() and write(), or crashed there.
  }
  return undefined;
}

/** Creating and writing a lock takes microseconds; an unreadable one this old was left by a crash. */
const UNREADABLE_STALE_MS = 5_000;

function isStale(lock: LockContent, options: LockOptions): boolean {
  const now = options.clock.now();
  if (!lock.holder) return now - lock.modifiedAt > UNREADABLE_STALE_MS;
  if (lock.holder.host === hostname()) return !options.isProcessAlive(lock.holder.pid);
  return now - lock.holder.since > (options.foreignStaleMs ?? 10 * 60_000);
}

/**
 * Two waiters may both see a dead holder; if both simply unlinked, the slower one could delete
 * the lock the faster one has just taken. So breaking is itself guarded by a short-lived
 * `.break` lock, and the lock is re-read under it.
 */
async function breakIfStale(lockPath: string, options: LockOptions): Promise<void> {
  const seen = await readLock(lockPath);
  if (!seen || !isStale(seen, options)) return;
  const breakPath = `${lockPath}.break`;
  const breaker: Holder = { pid: options.pid, host: hostname(), since: options.clock.now() };
  if ((await tryCreate(breakPath, breaker)) === undefined) {
    const other = await readLock(breakPath);
    if (other && isStale(other, options)) await unlink(breakPath).catch(() => undefined);
    return;
  }
  try {
    const current = await readLock(lockPath);
    // The same bytes and mtime: still the lock judged stale, not one taken since.
    if (current && current.raw === seen.raw && current.modifiedAt === seen.modifiedAt) {
      const aside = `${lockPath}.stale-${options.pid}`;
      try {
        await rename(lockPath, aside);
      } catch (err) {
        // Its (foreign, slow) holder released it meanwhile: nothing to break.
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      await unlink(aside).catch(() => undefined);
    }
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
}
