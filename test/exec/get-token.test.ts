// The get-token use case with strategies of the test's own (real LoginStrategy values, no module
// mocks): the login runs at most once whatever fails, a lock wait is taken out of --timeout, and
// a failing stdout is reported.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as yieldOnce } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { tokenEntryName } from "../../src/cache/token-cache.js";
import { getToken } from "../../src/exec/get-token.js";
import type { LoginDeps, LoginStrategy } from "../../src/login/types.js";
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

async function runGetToken(strategy: LoginStrategy, args: string[], runtime: TestRuntimeOptions = {}, stdout?: Output) {
  const rt = testRuntime(runtime);
  const { options, provenance } = resolveOptions(parseFlags(["--server-id", "server", ...args], GET_TOKEN_OPTIONS), rt.env, rt.homedir);
  const resolved = { options: validateOptions(options, provenance), provenance };
  const done = getToken(resolved, { rt: stdout ? { ...rt, stdout } : rt, log: rt.logger(0), strategyFor: async () => strategy });
  return { rt, done };
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
    const start = Date.now();
    let now = start;
    const lockPath = join(dir, `${tokenEntryName(KEY)}.lock`);
    // A live kubelogin on this host holds the lock, and lets go after 4 s of virtual time.
    await writeFile(lockPath, JSON.stringify({ pid: 31337, host: hostname(), since: start }));
    let released = false;
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
        if (!released && now - start >= 4_000) {
          released = true;
          await rm(lockPath);
        }
        await yieldOnce();
      },
    };
    const left: number[] = [];
    const strategy = strategyWith(async (deps) => {
      left.push(deps.deadline - deps.rt.clock.now());
      return { token: "after-the-wait", expiresOn: now + HOUR };
    });
    const { rt, done } = await runGetToken(strategy, ["--cache-dir", dir, "--timeout", "10s"], { clock, isProcessAlive: () => true });
    await done;
    expect(released).toBe(true);
    expect(left).toHaveLength(1);
    expect(left[0]).toBeGreaterThan(5_900);
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
