// The edges of the process as plain values. nodeRuntime() is the only code besides main.ts that
// touches `process`; tests build their own Runtime with a fixed clock, an env record and buffers.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import type { SecureContext } from "node:tls";
import type { Env } from "./options/resolve.js";
import { proxyFor } from "./proxy.js";
import { fdOutput } from "./stdio.js";
import { trustedContext } from "./system-ca.js";

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason once it is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface Output {
  /** Writes everything or throws (a closed or full stdout is an error the caller reports). */
  write(text: string): void;
}

export interface SpawnOptions {
  readonly env: Env;
  readonly cwd?: string;
  /** Kills the child when aborted (--timeout). */
  readonly signal?: AbortSignal;
}

export interface SpawnResult {
  /** null when the child was ended by a signal. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program with an argument array (never through a shell) and collects its output. */
export type Spawn = (file: string, args: readonly string[], options: SpawnOptions) => Promise<SpawnResult>;

export interface Runtime {
  readonly env: Env;
  readonly clock: Clock;
  /** Only exec/exec-credential.ts, help and --version write here: stdout is the protocol. */
  readonly stdout: Output;
  readonly stderr: Output;
  /** client-go's homedir.HomeDir(): $HOME on Unix. */
  readonly homedir: string;
  /** Where relative paths on the command line start. */
  readonly cwd: string;
  readonly pid: number;
  /** The user the process runs as (-1 where there are no uids). */
  readonly uid: number;
  /** Whether a process on this host still runs (stale cache locks are broken when it does not). */
  readonly isProcessAlive: (pid: number) => boolean;
  /** HTTP for every identity-provider request, so tests can see where requests go. */
  readonly fetch: typeof fetch;
  readonly spawn: Spawn;
  /** Opens the system browser ($BROWSER first) without waiting for it; never on our stdout. */
  readonly openBrowser: (url: string) => Promise<void>;
  /** For --version: the runtime and platform, in Go's GOOS/GOARCH spelling. */
  readonly build: { readonly runtimeVersion: string; readonly platform: string };
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export const systemClock: Clock = { now: () => Date.now(), sleep: abortableSleep };

export const spawnProcess: Spawn = async (file, args, options) => {
  const { spawn } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      env: options.env as NodeJS.ProcessEnv,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      shell: false,
      // Never the plugin's stdout: that is the exec protocol.
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (exitCode) =>
      resolve({ exitCode, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
    );
  });
};

/** $BROWSER (as xdg-open reads it: the first of a `:`-separated list), else the platform's opener. */
async function openSystemBrowser(env: Env, url: string): Promise<void> {
  const { spawn } = await import("node:child_process");
  const configured = env.BROWSER?.split(":").find((b) => b.trim() !== "");
  const [file, args] = configured
    ? [configured, [url]]
    : process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["rundll32", ["url.dll,FileProtocolHandler", url]]
        : ["xdg-open", [url]];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(file, args, { env: env as NodeJS.ProcessEnv, stdio: "ignore", detached: true });
    child.once("error", reject);
    child.once("spawn", () => {
      child.unref();
      resolve();
    });
  });
}

/**
 * Node's global fetch ignores HTTPS_PROXY / HTTP_PROXY / NO_PROXY and trusts only Node's own CAs.
 * This one sends a request through the proxy the given environment names for it (proxy.ts), with
 * undici's ProxyAgent (CONNECT for https), and trusts the system's CAs as well (system-ca.ts), for the
 * server and for an https proxy alike. The certificates are read at the first https request, and
 * undici is loaded only when a request needs a proxy or the system's CAs, so a cached get-token
 * never does either.
 */
export function proxyAwareFetch(env: Env, platform: NodeJS.Platform): typeof fetch {
  const agents = new Map<string, Promise<import("undici").Dispatcher>>();
  let trust: { readonly context: SecureContext | undefined } | undefined;
  const trusted = (): SecureContext | undefined => (trust ??= { context: trustedContext({ env, platform }) }).context;
  return async (input, init) => {
    const url = input instanceof Request ? input.url : input;
    const proxy = proxyFor(url, env);
    const overTls = new URL(url).protocol === "https:" || (proxy !== undefined && new URL(proxy).protocol === "https:");
    const secureContext = overTls ? trusted() : undefined;
    if (proxy === undefined && secureContext === undefined) return fetch(input, init);
    // A plain-http request through a proxy gets an agent of its own, without the system's CAs.
    const key = `${proxy ?? "direct"} ${secureContext === undefined ? "node-cas" : "system-cas"}`;
    let agent = agents.get(key);
    if (agent === undefined) {
      const tlsOptions = secureContext === undefined ? {} : { secureContext };
      agent = import("undici").then(({ Agent, ProxyAgent }) =>
        proxy === undefined ? new Agent({ connect: tlsOptions }) : new ProxyAgent({ uri: proxy, requestTls: tlsOptions, proxyTls: tlsOptions }),
      );
      agents.set(key, agent);
    }
    const [{ fetch: undiciFetch }, dispatcher] = await Promise.all([import("undici"), agent]);
    try {
      // undici's own fetch: the dispatcher must come from the same undici as the fetch using it.
      return await undiciFetch(input, { ...init, dispatcher });
    } catch (err) {
      // So the error can say the proxy was in the way; its origin only, never its credentials.
      throw proxy === undefined ? err : Object.assign(err as object, { viaProxy: new URL(proxy).origin });
    }
  };
}

/**
 * A process that has exited but that its parent has not reaped yet still answers kill(pid, 0). A
 * kubelogin killed while holding a lock stays one until its parent waits for it: as alive, every
 * waiter would wait for its lock to go stale. Linux says so in /proc; elsewhere, as alive.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name, which is in parentheses and may itself hold ") ".
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return false;
  }
}

export function nodeRuntime(): Runtime {
  const env = Object.freeze({ ...process.env });
  return {
    env,
    clock: systemClock,
    stdout: fdOutput(1),
    stderr: fdOutput(2),
    homedir: env.HOME || homedir(),
    cwd: process.cwd(),
    pid: process.pid,
    uid: process.getuid?.() ?? -1,
    isProcessAlive: (pid) => {
      try {
        process.kill(pid, 0);
      } catch (err) {
        // EPERM: it exists but belongs to someone else.
        return (err as NodeJS.ErrnoException).code === "EPERM";
      }
      return !isZombie(pid);
    },
    fetch: proxyAwareFetch(env, process.platform),
    spawn: spawnProcess,
    openBrowser: (url) => openSystemBrowser(env, url),
    build: { runtimeVersion: `node ${process.version}`, platform: `${goOs(process.platform)}/${goArch(process.arch)}` },
  };
}

function goOs(platform: string): string {
  return platform === "win32" ? "windows" : platform;
}

function goArch(arch: string): string {
  return ({ x64: "amd64", ia32: "386" } as Record<string, string>)[arch] ?? arch;
}
