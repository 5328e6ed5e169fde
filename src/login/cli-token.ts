// What the CLI-backed modes (azurecli, azd) share: running the CLI as azidentity does, but with an
// argument array instead of a shell, and fingerprinting the CLI's signed-in identity for the cache
// key (decision 11). Loaded by plan() on every call, so it imports nothing heavy.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { KubeloginError } from "../errors.js";
import type { Env } from "../options/resolve.js";
import type { SpawnResult } from "../runtime.js";
import type { LoginDeps } from "./types.js";

/** azidentity's validScope for scopes handed to a CLI: ASCII alphanumerics, `.`, `-`, `_`, `/`, `:`. */
export function isValidCliScope(scope: string): boolean {
  return /^[0-9A-Za-z._/:-]*$/.test(scope);
}

export const NOT_FOUND = Symbol("not found on PATH");

export interface CliProgram {
  /** What is looked up on PATH: "az" or "azd". */
  readonly command: string;
  /** The SDK credential's name, which starts its error texts: "AzureCLICredential". */
  readonly credential: string;
}

/**
 * Runs the CLI with the parent's environment, in /bin (%SYSTEMROOT% on Windows) as the SDK does, so
 * an `az` in the directory kubectl was started from is never picked up, and kills it when --timeout
 * runs out.
 *
 * The SDK runs `/bin/sh -c "<joined command line>"`; we pass an argument array with no shell
 * (style.md §4): nothing in a value can be parsed as shell syntax, a subscription name with spaces
 * needs no quoting, and a missing program shows as ENOENT instead of the shell's exit code 127
 * (both mean "not found" here). On Windows az and azd are .cmd wrappers that only cmd.exe can start,
 * so there it is `cmd.exe /d /c <command> <args>`, as the SDK's `cmd.exe /c`; the values were checked
 * beforehand to hold no character cmd.exe treats specially.
 */
export async function runCli(program: CliProgram, args: readonly string[], deps: LoginDeps): Promise<SpawnResult | typeof NOT_FOUND> {
  const { rt, signal } = deps;
  let file = program.command;
  let argv = args;
  let cwd = "/bin";
  if (rt.build.platform.startsWith("windows/")) {
    const systemRoot = rt.env.SYSTEMROOT;
    if (!systemRoot) throw new KubeloginError(`${program.credential}: environment variable 'SYSTEMROOT' has no value`);
    file = "cmd.exe";
    argv = ["/d", "/c", program.command, ...args];
    cwd = systemRoot;
  }
  deps.log.v(5, () => `running ${[program.command, ...args].join(" ")} in ${cwd}`);
  let result: SpawnResult;
  try {
    result = await rt.spawn(file, argv, { env: rt.env, cwd, signal });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return NOT_FOUND;
    throw new KubeloginError(`${program.credential}: ${(err as Error).message}`, { cause: err });
  }
  if (result.exitCode === 127 || result.stderr.startsWith(`'${program.command}' is not recognized`)) return NOT_FOUND;
  return result;
}

/** The SDK reports a failed CLI by its stderr, or by the exit status when stderr is empty. */
export function failureText(result: SpawnResult): string {
  const stderr = result.stderr.trim();
  if (stderr !== "") return stderr;
  return result.exitCode === null ? "terminated by a signal" : `exit status ${result.exitCode}`;
}

/** Parses the CLI's JSON answer; the text itself holds the token, so it never appears in an error. */
export function parseCliJson(program: CliProgram, stdout: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    // JSON.parse's message quotes the text, and so could quote the token.
    throw new KubeloginError(`${program.credential}: the output of ${program.command} is not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new KubeloginError(`${program.credential}: the output of ${program.command} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * The directory a CLI config env var names, as the CLI itself would resolve it: a leading `~` is the
 * home directory (az expands it), and a relative path is relative to the directory the CLI runs in.
 */
export function configDirFrom(env: Env, name: string, homedir: string, fallback: string): string {
  const value = env[name];
  if (!value) return join(homedir, fallback);
  const expanded = value === "~" || value.startsWith("~/") ? join(homedir, value.slice(1)) : value;
  return resolve("/bin", expanded);
}

export interface FingerprintedFile {
  readonly path: string;
  /** `<file name>=<sha256 of its content>`, or `<file name>=absent` when there is none. */
  readonly entry: string;
  readonly content?: Buffer;
}

/**
 * One small file of the CLI's sign-in state, read whole and hashed: enough to see that it changed.
 * A read error other than "no such file" is kept in the entry too; the CLI will report it.
 */
export async function readFingerprinted(dir: string, name: string): Promise<FingerprintedFile> {
  const path = join(dir, name);
  try {
    const content = await readFile(path);
    return { path, entry: `${name}=${createHash("sha256").update(content).digest("hex")}`, content };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { path, entry: `${name}=${code === "ENOENT" || code === "ENOTDIR" ? "absent" : `unreadable ${code ?? "error"}`}` };
  }
}

/**
 * A date and time given as `[year, month, day, hour, minute, second]` digits and an optional
 * fraction of a second, in UTC or in this process's time zone. Undefined for one that does not
 * exist (February 30, 24:00), which Go's time.Parse rejects and Date would roll over.
 */
export function timeFromParts(parts: readonly string[], fraction: string | undefined, zone: "utc" | "local"): number | undefined {
  const [year, month, day, hour, minute, second] = parts.map(Number) as [number, number, number, number, number, number];
  // An hour past 23 always moves the date to another day, which the check below refuses; a minute or
  // second past 59 can stay within the day (07:60 is 08:00).
  if (minute > 59 || second > 59) return undefined;
  // Stryker disable next-line StringLiteral: Number("0.") is 0 as well
  const millis = Math.floor(Number(`0.${fraction ?? "0"}`) * 1000);
  const date = zone === "utc" ? new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis)) : new Date(year, month - 1, day, hour, minute, second, millis);
  const [y, m, d] = zone === "utc" ? [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()] : [date.getFullYear(), date.getMonth(), date.getDate()];
  const sameYear = y === year;
  // Stryker disable next-line ConditionalExpression: a month out of 1-12 lands in another year, a day out of the month on another day of the month
  const sameMonth = m === month - 1;
  return sameYear && sameMonth && d === day ? date.getTime() : undefined;
}
