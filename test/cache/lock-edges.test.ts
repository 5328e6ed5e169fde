// The cache lock's edges, beside lock.test.ts: which holders are readable (and so shown and probed),
// the stale age at its limit, a lock taken or refreshed while it is being broken, and the errors
// for a lock that cannot be created or broken. Time is virtual where it decides the outcome.
import { existsSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock, STALE_MS, type LockOptions } from "../../src/cache/lock.js";
import { CacheError, CacheLockTimeoutError } from "../../src/errors.js";
import { nodeRuntime, systemClock, type Clock } from "../../src/runtime.js";

const { isProcessAlive } = nodeRuntime();
/** Another host's holder: its pid cannot be probed from here, so only its age counts. */
const OTHER = { pid: 4242, host: "build-agent-7", since: 1_700_000_000_000 };

let dir: string;
let lockPath: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-lock-edges-"));
  lockPath = join(dir, "entry.json.lock");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(overrides: Partial<LockOptions> = {}): LockOptions {
  return { clock: systemClock, pid: process.pid, isProcessAlive, timeoutMs: 0, retryMs: 1, ...overrides };
}

/** A clock stopped at `now` (sleep advances it), calling `onNow` on every reading. */
function stoppedClock(now: number, onNow: () => void = () => undefined): Clock {
  return {
    now: () => {
      onNow();
      return now;
    },
    sleep: async (ms) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** A clock stopped past the stale age of a lock touched at `touched`, running `meddle` once, the moment this process holds the `.break` guard. */
function whileBreaking(touched: number, meddle: () => void): { clock: Clock; meddled: () => boolean } {
  let done = false;
  const clock = stoppedClock(touched + STALE_MS + 1000, () => {
    if (!done && existsSync(`${lockPath}.break`)) {
      done = true;
      meddle();
    }
  });
  return { clock, meddled: () => done };
}

/** What a timed-out attempt saw holding the lock (undefined: nothing readable). */
async function holderSeen(content: string): Promise<unknown> {
  await writeFile(lockPath, content);
  const failure = acquireLock(lockPath, options());
  await expect(failure).rejects.toBeInstanceOf(CacheLockTimeoutError);
  return ((await failure.catch((err: unknown) => err)) as CacheLockTimeoutError).holder;
}

describe("a lock's holder", () => {
  it.each([
    ["pid 1", { ...OTHER, pid: 1 }],
    ["a 255-character host", { ...OTHER, host: "h".repeat(255) }],
    ["since 0", { ...OTHER, since: 0 }],
    ["since just before the last valid date", { ...OTHER, since: 8.64e15 - 1 }],
  ])("is shown with %s", async (_, holder) => {
    expect(await holderSeen(JSON.stringify(holder))).toEqual(holder);
  });

  it.each([
    ["pid 0", { ...OTHER, pid: 0 }],
    ["a negative pid", { ...OTHER, pid: -1 }],
    ["a fractional pid", { ...OTHER, pid: 1.5 }],
    ["a pid as a string", { ...OTHER, pid: "4242" }],
    ["a host that is not a string", { ...OTHER, host: ["build-agent-7"] }],
    ["a 256-character host", { ...OTHER, host: "h".repeat(256) }],
    ["a host with a control character", { ...OTHER, host: "a\nb" }],
    ["a host with DEL", { ...OTHER, host: "a\x7fb" }],
    ["a negative since", { ...OTHER, since: -1 }],
    ["since past the last valid date", { ...OTHER, since: 8.64e15 }],
    ["a fractional since", { ...OTHER, since: 1.5 }],
  ])("is unreadable with %s, and not shown", async (_, holder) => {
    expect(await holderSeen(JSON.stringify(holder))).toBeUndefined();
  });
});

describe("a stale lock", () => {
  /** A lock of another host, last touched at a whole second (so its age is exact). */
  async function oldLock(): Promise<number> {
    await writeFile(lockPath, JSON.stringify(OTHER));
    const second = Math.floor(Date.now() / 1000) - 3600;
    await utimes(lockPath, second, second);
    return second * 1000;
  }

  it("is one not touched for more than STALE_MS, not one touched exactly STALE_MS ago", async () => {
    const touched = await oldLock();
    await expect(acquireLock(lockPath, options({ clock: stoppedClock(touched + STALE_MS) }))).rejects.toBeInstanceOf(CacheLockTimeoutError);
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toEqual(OTHER);
    const release = await acquireLock(lockPath, options({ clock: stoppedClock(touched + STALE_MS + 1), timeoutMs: 10_000 }));
    expect(JSON.parse(await readFile(lockPath, "utf8")).pid).toBe(process.pid);
    await release();
  });

  it("is not broken when another process took it while this one was about to", async () => {
    const touched = await oldLock();
    const taken = JSON.stringify({ ...OTHER, pid: 4343 });
    const { clock, meddled } = whileBreaking(touched, () => {
      writeFileSync(lockPath, taken);
    });
    await expect(acquireLock(lockPath, options({ clock }))).rejects.toBeInstanceOf(CacheLockTimeoutError);
    expect(meddled()).toBe(true);
    expect(await readFile(lockPath, "utf8")).toBe(taken);
    expect(existsSync(`${lockPath}.break`)).toBe(false);
  });

  it("is not broken when its holder refreshed it meanwhile (same content, newer time)", async () => {
    const touched = await oldLock();
    const { clock, meddled } = whileBreaking(touched, () => {
      utimesSync(lockPath, touched / 1000 + 1, touched / 1000 + 1);
    });
    await expect(acquireLock(lockPath, options({ clock }))).rejects.toBeInstanceOf(CacheLockTimeoutError);
    expect(meddled()).toBe(true);
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toEqual(OTHER);
  });

  it("is not broken when another process took it with the same modification time", async () => {
    const touched = await oldLock();
    const taken = JSON.stringify({ ...OTHER, pid: 4343 });
    const { clock, meddled } = whileBreaking(touched, () => {
      writeFileSync(lockPath, taken);
      utimesSync(lockPath, touched / 1000, touched / 1000);
    });
    await expect(acquireLock(lockPath, options({ clock }))).rejects.toBeInstanceOf(CacheLockTimeoutError);
    expect(meddled()).toBe(true);
    expect(await readFile(lockPath, "utf8")).toBe(taken);
  });

  it("released while this process was about to break it is simply taken", async () => {
    const touched = await oldLock();
    const { clock, meddled } = whileBreaking(touched, () => {
      rmSync(lockPath);
    });
    const release = await acquireLock(lockPath, options({ clock, timeoutMs: 10_000 }));
    expect(meddled()).toBe(true);
    expect(JSON.parse(await readFile(lockPath, "utf8")).pid).toBe(process.pid);
    await release();
  });

  it("that cannot be moved aside fails with a CacheError naming the lock", async () => {
    const touched = await oldLock();
    await mkdir(`${lockPath}.stale-${process.pid}`);
    const failure = acquireLock(lockPath, options({ clock: stoppedClock(touched + STALE_MS + 1000), timeoutMs: 10_000 }));
    await expect(failure).rejects.toBeInstanceOf(CacheError);
    await expect(failure).rejects.toThrow(`could not break the stale lock ${lockPath}: is a directory`);
    expect(existsSync(`${lockPath}.break`)).toBe(false);
  });
});

describe("a lock that cannot be", () => {
  it("created fails at once, not after waiting", async () => {
    // The directory exists, but the lock's name is too long for it: no wait can fix that.
    const long = join(dir, `${"l".repeat(255)}.lock`);
    const failure = acquireLock(long, options({ timeoutMs: 10_000 }));
    await expect(failure).rejects.toBeInstanceOf(CacheError);
    await expect(failure).rejects.toThrow(`could not create the lock ${long}: name too long`);
  });

  it("a file because a directory is there says how to fix it", async () => {
    await mkdir(lockPath);
    await expect(acquireLock(lockPath, options({ timeoutMs: 10_000 }))).rejects.toMatchObject({
      message: `the cache lock ${lockPath} is a directory, not a lock file`,
      hint: `kubelogin never creates a directory there; remove ${lockPath}`,
    });
  });
});
