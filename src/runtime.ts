// The edges of the process as plain values. nodeRuntime() is the only code besides main.ts that
// touches `process`; tests build their own Runtime with a fixed clock, an env record and buffers.
import { homedir } from "node:os";
import type { Env } from "./options/resolve.js";

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface Output {
  write(text: string): void;
}

export interface Runtime {
  readonly env: Env;
  readonly clock: Clock;
  /** Only exec/exec-credential.ts, help and --version write here: stdout is the protocol. */
  readonly stdout: Output;
  readonly stderr: Output;
  /** client-go's homedir.HomeDir(): $HOME on Unix. */
  readonly homedir: string;
  readonly pid: number;
  /** Whether a process on this host still runs (stale cache locks are broken when it does not). */
  readonly isProcessAlive: (pid: number) => boolean;
  /** For --version: the runtime and platform, in Go's GOOS/GOARCH spelling. */
  readonly build: { readonly runtimeVersion: string; readonly platform: string };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function nodeRuntime(): Runtime {
  const env = Object.freeze({ ...process.env });
  return {
    env,
    clock: systemClock,
    stdout: { write: (text) => void process.stdout.write(text) },
    stderr: { write: (text) => void process.stderr.write(text) },
    homedir: env.HOME || homedir(),
    pid: process.pid,
    isProcessAlive: (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (err) {
        // EPERM: it exists but belongs to someone else.
        return (err as NodeJS.ErrnoException).code === "EPERM";
      }
    },
    build: { runtimeVersion: `node ${process.version}`, platform: `${goOs(process.platform)}/${goArch(process.arch)}` },
  };
}

function goOs(platform: string): string {
  return platform === "win32" ? "windows" : platform;
}

function goArch(arch: string): string {
  return ({ x64: "amd64", ia32: "386" } as Record<string, string>)[arch] ?? arch;
}
