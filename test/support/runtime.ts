// testRuntime(): the headless twin of nodeRuntime() (style pattern 1). Buffers instead of stdio,
// an env record instead of process.env, a home directory that is never the real one, and
// optionally a clock that only moves when code sleeps.
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandContext } from "../../src/cli/command.js";
import { createLogger, type Logger } from "../../src/log.js";
import type { Env } from "../../src/options/resolve.js";
import { spawnProcess, systemClock, type Clock, type Output, type Runtime } from "../../src/runtime.js";

export interface BufferedOutput extends Output {
  /** Everything written so far. */
  text(): string;
  clear(): void;
}

export interface TestRuntime extends Runtime {
  readonly stdout: BufferedOutput;
  readonly stderr: BufferedOutput;
  /** A logger on this runtime's stderr at `-v level`, as run.ts builds it. */
  logger(level?: number): Logger;
  /** The `{ rt, log, argv }` a Command's run() receives (an empty command line). */
  context(level?: number): CommandContext;
}

export interface TestRuntimeOptions extends Partial<Omit<Runtime, "stdout" | "stderr" | "env">> {
  readonly env?: Env;
  /** Fixes the clock at this instant (ISO text or epoch ms); sleep() advances it without waiting. */
  readonly now?: string | number;
}

export function bufferedOutput(): BufferedOutput {
  let buffer = "";
  return {
    write: (text) => void (buffer += text),
    text: () => buffer,
    clear: () => void (buffer = ""),
  };
}

/** A browser that fails the test if anything tries to open it (int128's httpdriver.Zero). */
export async function neverBrowser(url: string): Promise<void> {
  throw new Error(`test: nothing should open a browser here, but ${url} was opened`);
}

/** A clock that stands still until someone sleeps; then it jumps, so waits cost no real time. */
export function fixedClock(start: string | number): Clock & { advance(ms: number): void } {
  let now = typeof start === "number" ? start : Date.parse(start);
  if (Number.isNaN(now)) throw new Error(`fixedClock: not a date: ${String(start)}`);
  return {
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

export function testRuntime(options: TestRuntimeOptions = {}): TestRuntime {
  const { now, env = {}, ...rest } = options;
  const stdout = bufferedOutput();
  const stderr = bufferedOutput();
  const pid = rest.pid ?? 4242;
  const clock = rest.clock ?? (now === undefined ? systemClock : fixedClock(now));
  const base: Runtime = {
    // A home that does not exist, so nothing ever reads or writes the developer's ~/.kube.
    homedir: join(tmpdir(), `kubelogin-test-home-${randomBytes(6).toString("hex")}`),
    cwd: process.cwd(),
    uid: process.getuid?.() ?? -1,
    // Only this runtime's own pid counts as alive unless a test says otherwise.
    isProcessAlive: (other) => other === pid,
    build: { runtimeVersion: "node v20.0.0-test", platform: "linux/amd64" },
    // Real HTTP and processes: tests talk to fakes over loopback and to scripts they write.
    fetch: (input, init) => fetch(input, init),
    spawn: spawnProcess,
    openBrowser: neverBrowser,
    ...rest,
    // The file cache backend unless a test says otherwise: with the default (auto) and no Secret
    // Service, a sign-in warns once per cache dir, which is the keychain tests' business, not every suite's.
    env: Object.freeze({ KUBELOGIN_CACHE_BACKEND: "file", ...env }),
    clock,
    pid,
    stdout,
    stderr,
  };
  const logger = (level = 0): Logger => createLogger(stderr, level, clock, pid);
  const rt: TestRuntime = { ...base, stdout, stderr, logger, context: (level = 0) => ({ rt, log: logger(level), argv: [] }) };
  return rt;
}
