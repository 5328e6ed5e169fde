// The cross-process cache lock on a real temp dir: exclusion within and across processes, stale
// locks broken (dead pid, old unreadable body, not refreshed whatever its pid), holders that keep
// their lock fresh, an honest typed timeout on a live holder. Waiting runs on a virtual clock, so a 30 s timeout takes milliseconds.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock, lockPathFor, STALE_MS, withLock, type LockOptions } from "../../src/cache/lock.js";
import { CacheError, CacheLockTimeoutError } from "../../src/errors.js";
import { nodeRuntime, systemClock, type Clock } from "../../src/runtime.js";

const runFile = promisify(execFile);
const { isProcessAlive } = nodeRuntime();
const HOST = hostname();

/** Virtual time: sleep() advances it at once (and yields, so file operations make progress). */
function fakeClock(start: number): Clock & { readonly sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

function options(overrides: Partial<LockOptions> = {}): LockOptions {
  return { clock: systemClock, pid: process.pid, isProcessAlive, timeoutMs: 10_000, retryMs: 1, ...overrides };
}

const holder = (pid: number, host: string, since: number): string => JSON.stringify({ pid, host, since });

/** The pid of a process that has exited (and been reaped), so nothing answers to it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  expect(isProcessAlive(child.pid!)).toBe(false);
  return child.pid!;
}

/**
 * The pid of a process that has exited but is not reaped (a zombie): sh's background child, whose
 * parent then becomes (exec) a `sleep` that never waits for it. `end` kills the sleep; init reaps both.
 */
async function zombiePid(): Promise<{ pid: number; end: () => void }> {
  // The child outlives the shell's exec, so only the `sleep` could reap it.
  const parent = spawn("sh", ["-c", "sleep 0.2 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"] });
  const [line] = (await once(parent.stdout!, "data")) as [Buffer];
  const pid = Number(line.toString().trim());
  const state = async (): Promise<string> => {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  };
  while ((await state()) !== "Z") await new Promise((resolve) => setTimeout(resolve, 5));
  return { pid, end: () => void parent.kill("SIGKILL") };
}

let dir: string;
let lockPath: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-lock-"));
  lockPath = join(dir, "entry.json.lock");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("withLock", () => {
  it("runs the work holding a lock file that names this process, and removes it afterwards", async () => {
    const clock = fakeClock(1_700_000_000_000);
    const result = await withLock(lockPath, options({ clock }), async () => {
      expect(JSON.parse(await readFile(lockPath, "utf8"))).toEqual({ pid: process.pid, host: HOST, since: 1_700_000_000_000 });
      expect((await stat(lockPath)).mode & 0o777).toBe(0o600);
      return 42;
    });
    expect(result).toBe(42);
    expect(await readdir(dir)).toEqual([]);
  });

  it("releases the lock when the work throws", async () => {
    await expect(
      withLock(lockPath, options(), async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await readdir(dir)).toEqual([]);
  });

  it("creates a missing lock dir (and parents) 0700", async () => {
    const nested = join(dir, "a", "cache", "entry.json.lock");
    await withLock(nested, options(), async () => undefined);
    expect((await stat(join(dir, "a"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, "a", "cache"))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, "a", "cache"))).toEqual([]);
  });

  it("never lets two critical sections of one process overlap", async () => {
    let active = 0;
    let maxActive = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        withLock(lockPath, options(), async () => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          await new Promise((resolve) => setTimeout(resolve, 1));
          order.push(i);
          active -= 1;
        }),
      ),
    );
    expect(maxActive).toBe(1);
    expect(order.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await readdir(dir)).toEqual([]);
  });

  it("never lets two processes' critical sections overlap, nor two breakers of a stale lock: 6 × 20 = 120", async () => {
    const require = createRequire(import.meta.url);
    const tsx = pathToFileURL(require.resolve("tsx")).href;
    const src = new URL("../../src/", import.meta.url);
    const counter = join(dir, "counter");
    const inside = join(dir, "inside");
    await writeFile(counter, "0");
    // Every other round a child leaves the lock behind as if it had crashed holding it (the lock now
    // names a dead pid), so the others race to break it; a breaker that deleted a lock taken since
    // would let two of them in at once.
    const stale = holder(await deadPid(), HOST, 1);
    const child = join(dir, "child.mjs");
    await writeFile(
      child,
      `import { readFile, rename, unlink, writeFile } from "node:fs/promises";
const { withLock } = await import(${JSON.stringify(new URL("cache/lock.ts", src).href)});
const { nodeRuntime, systemClock } = await import(${JSON.stringify(new URL("runtime.ts", src).href)});
const lockPath = ${JSON.stringify(lockPath)};
const options = { clock: systemClock, pid: process.pid, isProcessAlive: nodeRuntime().isProcessAlive, timeoutMs: 30000, retryMs: 2 };
for (let i = 0; i < 20; i++) {
  await withLock(lockPath, options, async () => {
    await writeFile(${JSON.stringify(inside)}, String(process.pid), { flag: "wx" }); // EEXIST: overlap
    const n = Number(await readFile(${JSON.stringify(counter)}, "utf8"));
    await new Promise((resolve) => setImmediate(resolve));
    await writeFile(${JSON.stringify(counter)}, String(n + 1));
    await unlink(${JSON.stringify(inside)});
    if (i % 2 === 1) {
      await writeFile(lockPath + "." + process.pid, ${JSON.stringify(stale)});
      await rename(lockPath + "." + process.pid, lockPath);
    }
  });
}
`,
    );
    await Promise.all(Array.from({ length: 6 }, () => runFile(process.execPath, ["--import", tsx, child], { timeout: 30_000 })));
    expect(await readFile(counter, "utf8")).toBe("120");
    const left = (await readdir(dir)).sort();
    // The last child may have left its "crashed" lock behind.
    expect(left.filter((name) => name !== "entry.json.lock")).toEqual(["child.mjs", "counter"]);
  });
});

describe("lockPathFor", () => {
  it("puts the lock beside the entry, and refuses an empty dir (the lock would be at / or in the working directory)", () => {
    expect(lockPathFor("/cache/", "token-a.json")).toBe("/cache/token-a.json.lock");
    const refused = (() => {
      try {
        return lockPathFor("", "token-a.json");
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(CacheError);
    expect(refused).toMatchObject({ message: 'the cache directory is empty (--cache-dir "")' });
  });
});

describe("acquireLock", () => {
  it("release removes the lock file, and a second release is harmless", async () => {
    const release = await acquireLock(lockPath, options());
    expect(await readdir(dir)).toEqual(["entry.json.lock"]);
    await release();
    expect(await readdir(dir)).toEqual([]);
    await release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("release leaves alone a lock that another holder has taken since", async () => {
    const release = await acquireLock(lockPath, options());
    // As if ours had been broken as stale and another process had taken the lock.
    const other = holder(process.pid + 1, HOST, 123);
    await rm(lockPath);
    await writeFile(lockPath, other);
    await release();
    expect(await readFile(lockPath, "utf8")).toBe(other);
  });

  it("breaks a lock whose holder on this host is dead", async () => {
    const pid = await deadPid();
    await writeFile(lockPath, holder(pid, HOST, Date.now()));
    const clock = fakeClock(Date.now());
    const release = await acquireLock(lockPath, options({ clock, timeoutMs: 30_000, retryMs: 25 }));
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid, host: HOST });
    // Broken on the first look, taken on the next attempt.
    expect(clock.sleeps).toEqual([25]);
    await release();
    expect(await readdir(dir)).toEqual([]);
  });

  it.skipIf(process.platform !== "linux")("breaks at once a fresh lock whose holder has exited but is not reaped yet (a zombie)", async () => {
    const zombie = await zombiePid();
    try {
      expect(isProcessAlive(zombie.pid)).toBe(false);
      await writeFile(lockPath, holder(zombie.pid, HOST, Date.now()));
      const clock = fakeClock(Date.now());
      const release = await acquireLock(lockPath, options({ clock, timeoutMs: 30_000, retryMs: 25 }));
      // Broken on the first look, not after staleMs of waiting.
      expect(clock.sleeps).toEqual([25]);
      await release();
    } finally {
      zombie.end();
    }
  });

  it("breaks an unreadable lock once it is older than 5 s, and not before", async () => {
    const written = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    await writeFile(lockPath, "");
    await utimes(lockPath, written / 1000, written / 1000);
    // Looks at +4625, then after 25, 50, 100 and 200 ms of back-off.
    const clock = fakeClock(written + 4_625);
    const release = await acquireLock(lockPath, options({ clock, timeoutMs: 30_000, retryMs: 25 }));
    // Checked at written+5000 (not stale yet: exactly 5 s), broken at +5250, taken at +5500.
    expect(clock.now() - written).toBe(5_500);
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid });
    await release();
  });

  it("breaks a half-written lock (a crash between open and write) that is old", async () => {
    await writeFile(lockPath, '{"pid":12');
    const old = Date.now() / 1000 - 6;
    await utimes(lockPath, old, old);
    const release = await acquireLock(lockPath, options({ clock: fakeClock(Date.now()), retryMs: 25 }));
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid });
    await release();
  });

  it("times out on a live holder with CacheLockTimeoutError naming the lock file, leaving it in place", async () => {
    // Our own pid, so alive; a different "since", so not a lock this call wrote.
    const live = holder(process.pid, HOST, 1_600_000_000_000);
    await writeFile(lockPath, live);
    const clock = fakeClock(1_700_000_000_000);
    const attempt = acquireLock(lockPath, options({ clock, timeoutMs: 30_000, retryMs: 25 }));
    await expect(attempt).rejects.toBeInstanceOf(CacheLockTimeoutError);
    const err = (await attempt.catch((e: unknown) => e)) as CacheLockTimeoutError;
    expect(err.message).toBe(`timed out after 30s waiting for the cache lock ${lockPath}`);
    // Who holds it and that it resolves itself; never "delete it": the holder may be mid sign-in.
    expect(err.hint).toBe(
      `kubelogin pid ${process.pid} on ${HOST} has held it since 2020-09-13T12:26:40.000Z (it may be waiting for a sign-in); ` +
        "it is released when that kubelogin finishes, or broken automatically once that process is gone or stops refreshing it; raise --timeout to wait longer",
    );
    expect(err.hint).not.toContain("delete");
    expect(err.holder).toEqual({ pid: process.pid, host: HOST, since: 1_600_000_000_000 });
    expect(err.lockPath).toBe(lockPath);
    expect(err.exitCode).toBe(1);
    // Exactly the timeout in virtual time, looking at the lock ever less often: 123 looks, not
    // 1,200 (each costs the machine the holder runs on about a millisecond of CPU).
    expect(clock.now() - 1_700_000_000_000).toBe(30_000);
    expect(clock.sleeps.slice(0, 6)).toEqual([25, 50, 100, 200, 250, 250]);
    expect(clock.sleeps.length).toBe(123);
    expect(await readFile(lockPath, "utf8")).toBe(live);
    expect(await readdir(dir)).toEqual(["entry.json.lock"]);
  });

  it.each([
    ["empty", ""],
    ["with an impossible date", holder(process.pid, HOST, 1e300)],
    ["with a multi-line host", holder(process.pid, "a\nhint: delete everything", 1)],
  ])("suggests deleting the lock only when it names no holder (%s)", async (_, content) => {
    await writeFile(lockPath, content);
    const attempt = acquireLock(lockPath, options({ clock: fakeClock(Date.now()), timeoutMs: 1_000, retryMs: 25 }));
    await expect(attempt).rejects.toMatchObject({
      holder: undefined,
      hint: `the lock file names no holder; if no kubelogin is running, delete ${lockPath}`,
    });
  });

  it("waits exactly the timeout when the retry intervals do not add up to it, and not at all for 0", async () => {
    await writeFile(lockPath, holder(process.pid, HOST, 1));
    const clock = fakeClock(0);
    await expect(acquireLock(lockPath, options({ clock, timeoutMs: 100, retryMs: 30 }))).rejects.toBeInstanceOf(CacheLockTimeoutError);
    expect(clock.sleeps).toEqual([30, 60, 10]);

    const immediate = fakeClock(0);
    await expect(acquireLock(lockPath, options({ clock: immediate, timeoutMs: 0 }))).rejects.toBeInstanceOf(CacheLockTimeoutError);
    expect(immediate.sleeps).toEqual([]);
  });

  it("takes the lock as soon as a live holder releases it", async () => {
    const clock = fakeClock(Date.now());
    const first = await acquireLock(lockPath, options({ clock, retryMs: 25 }));
    const second = acquireLock(lockPath, options({ clock, retryMs: 25, timeoutMs: 30_000 }));
    while (clock.sleeps.length < 3) await new Promise((resolve) => setImmediate(resolve));
    await first();
    const release = await second;
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid, host: HOST });
    await release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("breaks a lock from another host only once it has not been refreshed for staleMs (default 30 s)", async () => {
    const now = Date.now();
    const neverAsked = (): boolean => {
      throw new Error("a foreign pid cannot be probed");
    };
    const touched = async (ago: number): Promise<void> => {
      const at = new Date(now - ago);
      await utimes(lockPath, at, at);
    };
    // Taken long ago ("since") but refreshed 29 s ago: its holder is alive and working.
    await writeFile(lockPath, holder(4242, "other-host.example", now - 60 * 60_000));
    await touched(29_000);
    await expect(
      acquireLock(lockPath, options({ clock: fakeClock(now), isProcessAlive: neverAsked, timeoutMs: 500, retryMs: 25 })),
    ).rejects.toBeInstanceOf(CacheLockTimeoutError);

    await touched(STALE_MS + 1);
    const release = await acquireLock(lockPath, options({ clock: fakeClock(now), isProcessAlive: neverAsked, timeoutMs: 1_000, retryMs: 25 }));
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid, host: HOST });
    await release();

    await writeFile(lockPath, holder(4242, "other-host.example", now));
    await touched(2_001);
    const custom = await acquireLock(lockPath, options({ clock: fakeClock(now), isProcessAlive: neverAsked, timeoutMs: 1_000, retryMs: 25, staleMs: 2_000 }));
    await custom();
    expect(await readdir(dir)).toEqual([]);
  });

  it("breaks within a second a lock whose pid is alive but unrelated (a reboot, PID 1 in a container) once it is not refreshed", async () => {
    const now = Date.now();
    await writeFile(lockPath, holder(1, HOST, now - 3_600_000));
    const old = new Date(now - STALE_MS - 1);
    await utimes(lockPath, old, old);
    const clock = fakeClock(now);
    const release = await acquireLock(lockPath, options({ clock, isProcessAlive: () => true, timeoutMs: 60_000, retryMs: 25 }));
    expect(clock.now() - now).toBeLessThan(1_000);
    expect(clock.sleeps).toEqual([25]);
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid, host: HOST });
    await release();
  });

  it("keeps a live holder's lock while it is fresh: a live pid is not broken before staleMs", async () => {
    const now = Date.now();
    await writeFile(lockPath, holder(1, HOST, now));
    const recent = new Date(now - STALE_MS + 1_000);
    await utimes(lockPath, recent, recent);
    const clock = fakeClock(now);
    await expect(acquireLock(lockPath, options({ clock, isProcessAlive: () => true, timeoutMs: 900, retryMs: 25 }))).rejects.toBeInstanceOf(
      CacheLockTimeoutError,
    );
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: 1 });
  });

  it("a holder refreshes its lock while it holds it (a sign-in waiting on a person), so a waiter never breaks it", async () => {
    // One virtual clock for holder and waiter; each wait also lets real time pass so the holder's
    // refresh timer (every 5 ms here) runs. 90 virtual seconds pass: three times staleMs.
    const clock = fakeClock(Date.now());
    const slowClock: Clock = {
      now: clock.now,
      sleep: async (ms) => {
        await clock.sleep(ms);
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
    };
    const release = await acquireLock(lockPath, options({ clock: slowClock, refreshMs: 5 }));
    const waiting = acquireLock(lockPath, options({ clock: slowClock, pid: process.pid + 1, isProcessAlive: () => true, timeoutMs: 90_000, retryMs: 5_000 }));
    await expect(waiting).rejects.toBeInstanceOf(CacheLockTimeoutError);
    await expect(waiting).rejects.toMatchObject({ holder: { pid: process.pid, host: HOST } });
    await release();
    expect(await readdir(dir)).toEqual([]);

    // Without refreshes the same wait breaks it after staleMs.
    const unrefreshed = await acquireLock(lockPath, options({ clock: slowClock, refreshMs: 3_600_000 }));
    const breaker = await acquireLock(lockPath, options({ clock: slowClock, pid: process.pid + 1, isProcessAlive: () => true, timeoutMs: 90_000, retryMs: 5_000 }));
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid + 1 });
    await unrefreshed();
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid + 1 });
    await breaker();
  });

  it("does not refresh a lock that another process has taken since", async () => {
    const release = await acquireLock(lockPath, options({ refreshMs: 5 }));
    const other = holder(process.pid + 1, HOST, 123);
    await rm(lockPath);
    await writeFile(lockPath, other);
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(Math.round((await stat(lockPath)).mtimeMs)).toBe(old.getTime());
    await release();
    expect(await readFile(lockPath, "utf8")).toBe(other);
  });

  it("fails at once with a CacheError, not a wait, when the lock is a directory", async () => {
    await mkdir(lockPath);
    await writeFile(join(lockPath, "someone's"), "x");
    const clock = fakeClock(Date.now());
    const attempt = acquireLock(lockPath, options({ clock, timeoutMs: 60_000 }));
    await expect(attempt).rejects.toBeInstanceOf(CacheError);
    await expect(attempt).rejects.toThrow(`the cache lock ${lockPath} is a directory, not a lock file`);
    expect(clock.sleeps).toEqual([]);
    expect(await readdir(lockPath)).toEqual(["someone's"]);
  });

  it("a lock dir that cannot be made is a CacheError with the OS error as cause (a path under a regular file)", async () => {
    await writeFile(join(dir, "file"), "x");
    const attempt = acquireLock(join(dir, "file", "cache", "entry.json.lock"), options());
    await expect(attempt).rejects.toBeInstanceOf(CacheError);
    await expect(attempt).rejects.toMatchObject({ cause: expect.objectContaining({ code: "ENOTDIR" }) });
  });

  it("lets only one of many waiters racing on a stale lock hold it at a time", async () => {
    await writeFile(lockPath, holder(await deadPid(), HOST, Date.now()));
    let active = 0;
    let maxActive = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        withLock(lockPath, options(), async () => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          await new Promise((resolve) => setTimeout(resolve, 2));
          active -= 1;
          done += 1;
        }),
      ),
    );
    expect(maxActive).toBe(1);
    expect(done).toBe(12);
    expect(await readdir(dir)).toEqual([]);
  });

  it("does not break a stale lock while a live waiter holds the .break guard", async () => {
    await writeFile(lockPath, holder(await deadPid(), HOST, 1));
    await writeFile(`${lockPath}.break`, holder(process.pid, HOST, 2));
    await expect(acquireLock(lockPath, options({ clock: fakeClock(0), timeoutMs: 1_000, retryMs: 25 }))).rejects.toBeInstanceOf(
      CacheLockTimeoutError,
    );
    expect((await readdir(dir)).sort()).toEqual(["entry.json.lock", "entry.json.lock.break"]);
  });

  it("removes a .break guard left by a dead waiter, then breaks the stale lock", async () => {
    const pid = await deadPid();
    await writeFile(lockPath, holder(pid, HOST, 1));
    await writeFile(`${lockPath}.break`, holder(pid, HOST, 2));
    const clock = fakeClock(Date.now());
    const release = await acquireLock(lockPath, options({ clock, timeoutMs: 1_000, retryMs: 25 }));
    // Guard removed on the first look, lock broken on the second, taken on the third.
    expect(clock.sleeps).toEqual([25, 50]);
    expect(await readdir(dir)).toEqual(["entry.json.lock"]);
    await release();
  });

  it("makes the cache dir again when it is removed while waiting", async () => {
    await writeFile(lockPath, holder(process.pid, HOST, 1));
    const clock = fakeClock(0);
    const removing: Clock = {
      now: clock.now,
      sleep: async (ms) => {
        if (clock.sleeps.length === 0) await rm(dir, { recursive: true, force: true });
        await clock.sleep(ms);
      },
    };
    const release = await acquireLock(lockPath, options({ clock: removing, timeoutMs: 1_000, retryMs: 25 }));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readdir(dir)).toEqual(["entry.json.lock"]);
    await release();
  });
});
