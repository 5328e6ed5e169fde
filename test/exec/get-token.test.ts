// The get-token use case with strategies of the test's own (real LoginStrategy values, no module
// mocks): the login runs at most once whatever fails, a lock wait is taken out of --timeout, and
// a failing stdout is reported.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as yieldOnce } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { formatTokenEntry, tokenEntryName } from "../../src/cache/token-cache.js";
import { CacheError, KubeloginError } from "../../src/errors.js";
import { getToken } from "../../src/exec/get-token.js";
import type { ServedEntry } from "../../src/fast-path/hit-index.js";
import type { LoginDeps, LoginPlan, LoginStrategy, PlanContext } from "../../src/login/types.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import type { Clock, Output } from "../../src/runtime.js";
import { testRuntime, type TestRuntimeOptions } from "../support/runtime.js";

const KEY = ["test-mode", "identity"];
const HOUR = 3_600_000;

function strategyWith(acquire: (deps: LoginDeps) => Promise<{ token: string; expiresOn: number }>): LoginStrategy & { calls: number } {
  const strategy = {
    mode: "spn" as const,
    calls: 0,
    plan: async () => ({
      cacheKey: KEY,
      inputs: [],
      warnings: [],
      acquire: (deps: LoginDeps) => {
        strategy.calls++;
        return acquire(deps);
      },
    }),
  };
  return strategy;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-get-token-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What the use case told the fast path's index writer: the entries that answered, in order. */
const remembered: ServedEntry[] = [];
const remember = async (served: ServedEntry): Promise<void> => void remembered.push(served);
beforeEach(() => {
  remembered.length = 0;
});

async function runGetToken(strategy: LoginStrategy, args: string[], runtime: TestRuntimeOptions = {}, stdout?: Output, level = 0) {
  const rt = testRuntime(runtime);
  const { options, provenance } = resolveOptions(parseFlags(["--server-id", "server", ...args], GET_TOKEN_OPTIONS), rt.env, rt.homedir);
  const resolved = { options: validateOptions(options, provenance), provenance };
  const done = getToken(resolved, { rt: stdout ? { ...rt, stdout } : rt, log: rt.logger(level), strategyFor: async () => strategy, remember });
  return { rt, done };
}

/** A strategy whose plan the test writes: `plans` gets the call count (0 for the first plan). */
function planned(
  plans: (call: number, context: PlanContext) => Partial<LoginPlan>,
  acquire: (deps: LoginDeps) => Promise<{ token: string; expiresOn: number }> = async (deps) => ({ token: "fresh-token", expiresOn: deps.rt.clock.now() + HOUR }),
): LoginStrategy & { calls: number; contexts: PlanContext[] } {
  const strategy = {
    mode: "spn" as const,
    calls: 0,
    contexts: [] as PlanContext[],
    plan: async (_options: unknown, context: PlanContext): Promise<LoginPlan> => {
      strategy.contexts.push(context);
      return {
        cacheKey: KEY,
        inputs: [],
        warnings: [],
        acquire: (deps: LoginDeps) => {
          strategy.calls++;
          return acquire(deps);
        },
        ...plans(strategy.contexts.length - 1, context),
      };
    },
  };
  return strategy;
}

const stdoutToken = (text: string): string => (JSON.parse(text) as { status: { token: string } }).status.token;

/**
 * A live kubelogin on this host holds KEY's lock, on a virtual clock that sleeping advances. After
 * `releaseAfterMs` of it, the holder runs `beforeRelease` (given the time) and lets go.
 */
async function heldLock(releaseAfterMs = Infinity, beforeRelease: (now: number) => Promise<void> = async () => undefined) {
  const start = Date.now();
  let now = start;
  let released = false;
  const lockPath = join(dir, `${tokenEntryName(KEY)}.lock`);
  await writeFile(lockPath, JSON.stringify({ pid: 31337, host: hostname(), since: start }));
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      if (!released && now - start >= releaseAfterMs) {
        released = true;
        await beforeRelease(now);
        await rm(lockPath);
      }
      await yieldOnce();
    },
  };
  return { clock, released: () => released, waited: () => now - start };
}

describe("a strategy's own failure", () => {
  const spawnFailure = (): Error => Object.assign(new Error("spawn az ENOENT"), { code: "ENOENT", errno: -2, syscall: "spawn az", path: "az" });

  test("an error with an errno code is reported as itself, and the login runs once", async () => {
    const strategy = strategyWith(async () => {
      throw spawnFailure();
    });
    const { done } = await runGetToken(strategy, ["--cache-dir", dir]);
    await expect(done).rejects.toThrow("spawn az ENOENT");
    expect(strategy.calls).toBe(1);
  });

  test("with an unusable cache dir too, the login still runs once", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    const strategy = strategyWith(async () => {
      throw spawnFailure();
    });
    const { done } = await runGetToken(strategy, ["--cache-dir", join(file, "cache")]);
    await expect(done).rejects.toThrow("spawn az ENOENT");
    expect(strategy.calls).toBe(1);
  });

  test("an unusable cache dir alone does not stop the login", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    const strategy = strategyWith(async (deps) => ({ token: "fresh-token", expiresOn: deps.rt.clock.now() + HOUR }));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", join(file, "cache")]);
    await done;
    expect(strategy.calls).toBe(1);
    expect(JSON.parse(rt.stdout.text()).status.token).toBe("fresh-token");
  });
});

describe("--timeout covers the lock wait and the login together", () => {
  test("a lock held for 4 s of a 10 s timeout leaves the login 6 s", async () => {
    const { clock, released } = await heldLock(4_000);
    const left: number[] = [];
    const strategy = strategyWith(async (deps) => {
      left.push(deps.deadline - deps.rt.clock.now());
      return { token: "after-the-wait", expiresOn: deps.rt.clock.now() + HOUR };
    });
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir, "--timeout", "10s"], { clock, isProcessAlive: () => true });
    await done;
    expect(released()).toBe(true);
    expect(left).toHaveLength(1);
    // A waiter looks at the lock at least every 250 ms, so it has it within 250 ms of the release.
    expect(left[0]).toBeGreaterThanOrEqual(5_750);
    expect(left[0]).toBeLessThanOrEqual(6_000);
    expect(JSON.parse(rt.stdout.text()).status.token).toBe("after-the-wait");
  });
});

describe("stdout that cannot be written", () => {
  test("is upstream's error, naming the OS reason", async () => {
    const strategy = strategyWith(async (deps) => ({ token: "t", expiresOn: deps.rt.clock.now() + HOUR }));
    const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
    const { done } = await runGetToken(strategy, ["--cache-dir", dir], {}, {
      write: () => {
        throw full;
      },
    });
    await expect(done).rejects.toThrow(/^could not write the ExecCredential: write \/dev\/stdout: no space left on device$/);
  });
});

describe("before any login", () => {
  test("an empty --server-id is upstream's error, with a hint", async () => {
    const strategy = strategyWith(async () => ({ token: "t", expiresOn: Date.now() + HOUR }));
    const { done } = await runGetToken(strategy, ["--cache-dir", dir, "--server-id", ""]);
    await expect(done).rejects.toThrow(expect.objectContaining({ name: "MissingOptionError", message: "server-id is required", hint: "pass --server-id" }));
    expect(strategy.calls).toBe(0);
  });

  test("the plan sees the environment, the home and cache dirs and the long-lived store", async () => {
    const strategy = planned(() => ({}));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir]);
    await done;
    expect(strategy.contexts[0]).toEqual({ env: rt.env, homedir: rt.homedir, cacheDir: dir, state: expect.objectContaining({ location: dir }) });
  });

  test("a plan's KubeloginError gets upstream's prefix; any other error stays as it is", async () => {
    const { done } = await runGetToken(planned(() => { throw new KubeloginError("client ID cannot be empty"); }), ["--cache-dir", dir]);
    await expect(done).rejects.toThrow(expect.objectContaining({ message: "failed to create azidentity credential: client ID cannot be empty" }));
    const { done: other } = await runGetToken(planned(() => { throw new TypeError("boom"); }), ["--cache-dir", dir]);
    await expect(other).rejects.toThrow(new TypeError("boom"));
  });

  test("the plan's warnings go to stderr first, one line each", async () => {
    const { rt, done } = await runGetToken(planned(() => ({ warnings: ["unknown environment", "second"] })), ["--cache-dir", dir]);
    await done;
    expect(rt.stderr.text()).toBe("Warning: unknown environment\nWarning: second\n");
  });

  test("at -v 1 the cache backend is described; at -v 0 it is not", async () => {
    const quiet = await runGetToken(planned(() => ({})), ["--cache-dir", dir]);
    await quiet.done;
    expect(quiet.rt.stderr.text()).toBe("");
    const verbose = await runGetToken(planned(() => ({})), ["--cache-dir", dir], {}, undefined, 1);
    await verbose.done;
    expect(verbose.rt.stderr.text()).toContain(`cache backend: file; access tokens in 0600 files in ${dir}`);
  });
});

describe("the access-token cache", () => {
  const write = (key: readonly string[], token: string, expiresOn: number) => writeFile(join(dir, tokenEntryName(key)), formatTokenEntry(key, { token, expiresOn }));

  test("a fresh cached token is served without a login and without the lock", async () => {
    await write(KEY, "cached-token", Date.now() + HOUR);
    // A live kubelogin holds the lock: serving from the cache must not wait for it.
    await writeFile(join(dir, `${tokenEntryName(KEY)}.lock`), JSON.stringify({ pid: 31337, host: hostname(), since: Date.now() }));
    const strategy = planned(() => ({}));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir, "--timeout", "1ns"], { isProcessAlive: () => true }, undefined, 5);
    await done;
    expect(strategy.calls).toBe(0);
    expect(stdoutToken(rt.stdout.text())).toBe("cached-token");
    expect(rt.stderr.text()).toMatch(/serving the cached token for spn \(expires \d{4}-\d\d-\d\dT/);
  });

  test("a login saves the token, and the next call serves it", async () => {
    const strategy = planned(() => ({}));
    await (await runGetToken(strategy, ["--cache-dir", dir])).done;
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir]);
    await done;
    expect(strategy.calls).toBe(1);
    expect(stdoutToken(rt.stdout.text())).toBe("fresh-token");
  });

  test("an expired cached token is replaced by a login", async () => {
    await write(KEY, "old-token", Date.now() + 60_000);
    const strategy = planned(() => ({}));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir]);
    await done;
    expect(strategy.calls).toBe(1);
    expect(stdoutToken(rt.stdout.text())).toBe("fresh-token");
  });

  test("present() makes what kubectl gets, from the cached and the fresh token alike", async () => {
    const strategy = planned(() => ({ present: (token: string, now: number) => `pop(${token}@${now})` }));
    const first = await runGetToken(strategy, ["--cache-dir", dir], { now: "2025-02-19T05:00:00Z" });
    await first.done;
    const second = await runGetToken(strategy, ["--cache-dir", dir], { now: "2025-02-19T05:10:00Z" });
    await second.done;
    expect(stdoutToken(first.rt.stdout.text())).toBe(`pop(fresh-token@${Date.parse("2025-02-19T05:00:00Z")})`);
    expect(stdoutToken(second.rt.stdout.text())).toBe(`pop(fresh-token@${Date.parse("2025-02-19T05:10:00Z")})`);
    expect((JSON.parse(second.rt.stdout.text()) as { status: { expirationTimestamp: string } }).status.expirationTimestamp).toBe("2025-02-19T06:00:00Z");
  });

  test("a corrupt entry is set aside with a warning and rebuilt by a login", async () => {
    await writeFile(join(dir, tokenEntryName(KEY)), "{not json");
    const strategy = planned(() => ({}));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir]);
    await done;
    expect(strategy.calls).toBe(1);
    expect(rt.stderr.text()).toMatch(/a cache entry was unreadable; set aside as \S+ and rebuilding it\n/);
  });

  test("a corrupt entry that cannot be set aside is still rebuilt, and the warning says only that", async () => {
    const entryPath = join(dir, tokenEntryName(KEY));
    await writeFile(entryPath, "{not json");
    // A non-empty directory where the set-aside copy would go (its name comes from the fixed clock).
    const aside = `${entryPath}.corrupt-2025-02-19T05-00-00-000Z`;
    await mkdir(aside);
    await writeFile(join(aside, "keep"), "x");
    const strategy = planned(() => ({}));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir], { now: "2025-02-19T05:00:00Z" });
    await done;
    expect(strategy.calls).toBe(1);
    expect(rt.stderr.text()).toContain("a cache entry was unreadable; rebuilding it\n");
    expect(rt.stderr.text()).not.toContain("set aside");
  });

  test("a token another kubelogin saved while this one waited for the lock is served, without a login", async () => {
    const { clock, released } = await heldLock(1_000, (now) => write(KEY, "from-the-other-one", now + HOUR));
    const strategy = planned(() => ({}));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir], { clock, isProcessAlive: () => true });
    await done;
    expect(released()).toBe(true);
    expect(strategy.calls).toBe(0);
    expect(stdoutToken(rt.stdout.text())).toBe("from-the-other-one");
    expect(remembered.map((served) => served.entry)).toEqual([tokenEntryName(KEY)]);
  });

  test("a sign-in that decides the key: the replanned key's fresh token is served, without a login", async () => {
    const SIGNED_IN = ["test-mode", "identity", "user@example.com"];
    await write(SIGNED_IN, "signed-in-token", Date.now() + HOUR);
    const strategy = planned((call) => (call === 0 ? {} : { cacheKey: SIGNED_IN, inputs: ["/auth-record"] }));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir]);
    await done;
    expect(strategy.calls).toBe(0);
    expect(stdoutToken(rt.stdout.text())).toBe("signed-in-token");
    // The index is told the entry that answered and the files of the plan that named it.
    expect(remembered.map((served) => [served.entry, served.inputs])).toEqual([[tokenEntryName(SIGNED_IN), ["/auth-record"]]]);
    expect(remembered[0]!.entryFor(await remembered[0]!.replan())).toBe(tokenEntryName(SIGNED_IN));
  });

  test("the fresh token is saved under the key planned after the login", async () => {
    const SIGNED_IN = ["test-mode", "identity", "user@example.com"];
    // Plans 0 and 1 come before the login, plan 2 after it.
    const strategy = planned((call) => (call < 2 ? {} : { cacheKey: SIGNED_IN }));
    await (await runGetToken(strategy, ["--cache-dir", dir])).done;
    expect(await readdir(dir)).toContain(tokenEntryName(SIGNED_IN));
    expect(await readdir(dir)).not.toContain(tokenEntryName(KEY));
    expect(remembered.map((served) => [served.entry, served.cacheDir, served.apiVersion])).toEqual([[tokenEntryName(SIGNED_IN), dir, "client.authentication.k8s.io/v1beta1"]]);
  });

  test("the index is told nothing for a PoP token, an answer without the cache, or a token that was not saved", async () => {
    await (await runGetToken(planned(() => ({ present: (token) => `pop ${token}` })), ["--cache-dir", dir])).done;
    await (await runGetToken(planned(() => ({ present: (token) => `pop ${token}` })), ["--cache-dir", dir])).done;
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    await (await runGetToken(planned(() => ({})), ["--cache-dir", join(file, "cache")])).done;
    expect(remembered).toEqual([]);
    await (await runGetToken(planned(() => ({})), ["--cache-dir", dir])).done;
    expect(remembered).toHaveLength(1);
  });

  test("an entry that cannot be read is logged at -v 1, and the login goes on without the cache", async () => {
    // A regular file where the cache dir would be (a directory where the entry would be is set aside instead, as corrupt).
    const file = join(dir, "file");
    await writeFile(file, "");
    const strategy = planned(() => ({}));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", file], {}, undefined, 1);
    await done;
    expect(strategy.calls).toBe(1);
    expect(stdoutToken(rt.stdout.text())).toBe("fresh-token");
    expect(rt.stderr.text()).toContain(`cannot read the token cache in ${file}: `);
  });

  test("a token that has expired on arrival (a wrong clock) is printed, not cached, with one warning naming both times", async () => {
    const strategy = planned(() => ({}), async () => ({ token: "stale-token", expiresOn: Date.parse("2025-02-19T04:00:00Z") }));
    for (const run of [1, 2]) {
      const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir], { now: "2025-02-19T05:00:00Z" });
      await done;
      expect(strategy.calls).toBe(run);
      expect(stdoutToken(rt.stdout.text())).toBe("stale-token");
      const warnings = rt.stderr.text().split("\n").filter((line) => line !== "");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/expired at 2025-02-19T04:00:00\.000Z, before this machine's time 2025-02-19T05:00:00\.000Z; it is printed but not cached/);
    }
    expect(await readdir(dir)).not.toContain(tokenEntryName(KEY));
    expect(remembered).toEqual([]);
  });

  test("without a usable cache dir, a token expired on arrival is warned about too", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    const strategy = planned(() => ({}), async () => ({ token: "stale-token", expiresOn: Date.parse("2025-02-19T04:00:00Z") }));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", join(file, "cache")], { now: "2025-02-19T05:00:00Z" });
    await done;
    expect(stdoutToken(rt.stdout.text())).toBe("stale-token");
    expect(rt.stderr.text()).toContain("before this machine's time 2025-02-19T05:00:00.000Z; it is printed but not cached");
  });

  test("a token that cannot be saved is still printed, with a warning", async () => {
    const SIGNED_IN = ["test-mode", "identity", "user@example.com"];
    // A directory where the entry planned after the login would go.
    await mkdir(join(dir, tokenEntryName(SIGNED_IN)));
    const strategy = planned((call) => (call < 2 ? {} : { cacheKey: SIGNED_IN }));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir]);
    await done;
    expect(strategy.calls).toBe(1);
    expect(stdoutToken(rt.stdout.text())).toBe("fresh-token");
    expect(rt.stderr.text()).toContain(`could not save the token in ${dir}: `);
    // Not saved: no entry for the fast path's index to point at.
    expect(remembered).toEqual([]);
  });

  test("an unusable cache dir is logged at -v 1, and the login goes on without it", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    const strategy = planned(() => ({}));
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", join(file, "cache")], {}, undefined, 1);
    await done;
    expect(strategy.calls).toBe(1);
    expect(rt.stderr.text()).toContain(`the token cache in ${join(file, "cache")} is unusable (`);
    expect(rt.stderr.text()).toContain("); continuing without it");
  });

  test("a CacheError from the login itself is reported, not retried without the cache", async () => {
    const strategy = planned(() => ({}), async () => {
      throw new CacheError("the MSAL cache is unreadable");
    });
    const { done } = await runGetToken(strategy, ["--cache-dir", dir]);
    await expect(done).rejects.toThrow("the MSAL cache is unreadable");
    expect(strategy.calls).toBe(1);
  });

  test("a plan that fails under the lock is reported, and no login runs", async () => {
    const strategy = planned((call) => {
      if (call === 1) throw new TypeError("replanning failed");
      return {};
    });
    const { done } = await runGetToken(strategy, ["--cache-dir", dir]);
    await expect(done).rejects.toThrow(new TypeError("replanning failed"));
    expect(strategy.calls).toBe(0);
  });

  test("a lock that stays held past --timeout is the lock's timeout error, without a login", async () => {
    const { clock, waited } = await heldLock();
    const strategy = planned(() => ({}));
    const { done } = await runGetToken(strategy, ["--cache-dir", dir, "--timeout", "10s"], { clock, isProcessAlive: () => true });
    await expect(done).rejects.toThrow(expect.objectContaining({ name: "CacheLockTimeoutError" }));
    expect(waited()).toBeGreaterThanOrEqual(10_000);
    expect(waited()).toBeLessThan(11_000);
    expect(strategy.calls).toBe(0);
  });
});

describe("what the login gets", () => {
  test("interaction: kubectl's interactive flag, messages on stderr on their own line, the runtime's browser", async () => {
    const opened: string[] = [];
    let interactive: boolean | undefined;
    const strategy = planned(() => ({}), async (deps) => {
      interactive = deps.interaction.interactive;
      deps.interaction.showMessage("To sign in, open the page");
      deps.interaction.showMessage("Already ends in a newline\n");
      await deps.interaction.openBrowser("https://login.example.com/device");
      return { token: "t", expiresOn: deps.rt.clock.now() + HOUR };
    });
    const env = { KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}' };
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir], { env, openBrowser: async (url) => void opened.push(url) });
    await done;
    expect(interactive).toBe(true);
    expect(rt.stderr.text()).toBe("To sign in, open the page\nAlready ends in a newline\n");
    expect(opened).toEqual(["https://login.example.com/device"]);
  });

  test("a login that outlives --timeout is aborted with upstream's timeout error", async () => {
    let signal: AbortSignal | undefined;
    const strategy = planned(() => ({}), (deps) => {
      signal = deps.signal;
      return new Promise(() => undefined);
    });
    const { done } = await runGetToken(strategy, ["--cache-dir", dir, "--timeout", "50ms"]);
    const timedOut = expect.objectContaining({
      name: "TimeoutError",
      message: "failed to get token: context deadline exceeded",
      hint: "kubelogin stopped waiting after 50ms (--timeout): raise --timeout (or AZURE_CLI_TIMEOUT), and check that the identity provider is reachable",
    });
    await expect(done).rejects.toThrow(timedOut);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toEqual(timedOut);
  });

  test.each(["60s", "720h"])("a login that takes a moment finishes within --timeout %s (longer than setTimeout's limit too)", async (timeout) => {
    const strategy = planned(() => ({}), async (deps) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { token: "slow-token", expiresOn: deps.rt.clock.now() + HOUR };
    });
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir, "--timeout", timeout]);
    await done;
    expect(stdoutToken(rt.stdout.text())).toBe("slow-token");
  });

  test("after the login, its timeout no longer fires", async () => {
    let signal: AbortSignal | undefined;
    const strategy = planned(() => ({}), async (deps) => {
      signal = deps.signal;
      return { token: "t", expiresOn: deps.rt.clock.now() + HOUR };
    });
    await (await runGetToken(strategy, ["--cache-dir", dir, "--timeout", "30ms"])).done;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(signal?.aborted).toBe(false);
  });
});
