// The fast path's index (decision 2): how a cached get-token is answered by reading two small
// files, without resolving options or planning. The full CLI, after it answered a call silently
// from a cache entry, writes `fast-<hash>.json` beside that entry: named after the exact command
// line (argv, working directory, user, build), it records which entry answered it and everything
// that answer depended on — the environment variables the run read (their names, and one digest
// of their values) and the files the strategy's plan read (their stat stamps). The next call with
// the same command line finds it, checks the digest and the stamps, reads the entry and prints it.
// Any difference (another secret in the environment, az logged in again, a new auth record, a
// replaced certificate, a stale or missing entry) makes it answer nothing, and the full CLI runs
// from the start and does whatever it does, rewriting the index. So the index can only be stale
// in a way the full CLI would also not notice, and it never holds a secret: values are hashed.
import { statSync } from "node:fs";
import { readdir, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { isFresh, parseTokenEntry } from "../cache/token-cache.js";
import type { TokenStore } from "../cache/store.js";
import { assertTrustedDirSync, cacheDirRefusal, readTrustedFileSync } from "../cache/trust.js";
import { formatExecCredential } from "../exec/exec-credential.js";
import { V1, V1BETA1, type ExecApiVersion } from "../exec/exec-info.js";
import type { LoginPlan } from "../login/types.js";
import type { Output } from "../runtime.js";
import { sha256 } from "./sha256.js";

/** Raised with any change to what an index means: an index from another build is never read. */
const FORMAT = "kubelogin-fast-index-v1";

declare const __KUBELOGIN_BUILD_GITHASH__: string | undefined;
declare const __KUBELOGIN_BUILD_BUILDTIME__: string | undefined;
/** The build, so that an upgrade never reads an index an older build wrote (its keys may differ). */
// Stryker disable next-line all: set once at module load, before Stryker's vitest runner activates any mutant; in sources it is always "sources", whose index name a test pins
const BUILD = typeof __KUBELOGIN_BUILD_BUILDTIME__ === "string" ? `${__KUBELOGIN_BUILD_GITHASH__}@${__KUBELOGIN_BUILD_BUILDTIME__}` : "sources";

export const INDEX_ENTRY_PATTERN = /^fast-[0-9a-f]{32}\.json$/;
const TOKEN_ENTRY_PATTERN = /^token-[0-9a-f]{40}\.json$/;

type Env = Readonly<Record<string, string | undefined>>;

/** One get-token call as the process sees it, before any option is parsed. */
export interface Invocation {
  /** Everything after the script: `get-token -l spn …`. */
  readonly argv: readonly string[];
  readonly env: Env;
  readonly cwd: string;
  readonly uid: number;
}

interface HitIndex {
  readonly format: typeof FORMAT;
  /** The token entry's name, in the same directory. */
  readonly entry: string;
  readonly apiVersion: ExecApiVersion;
  /** Sorted names of the environment variables the run read ("*": all of them); their values, absent ones included, make `envDigest`. */
  readonly env: readonly string[];
  readonly envDigest: string;
  /** [path, stat stamp] of each file the plan read. */
  readonly files: readonly (readonly [string, string])[];
}

function hex(text: string): string {
  // Stryker disable next-line StringLiteral: Buffer.from reads a string as UTF-8 when no encoding is named
  return Buffer.from(sha256(Buffer.from(text, "utf8"))).toString("hex");
}

/**
 * A 128-bit name for a command line (cyrb128: four multiply-xor lanes, mixed at the end). Not
 * cryptographic, and it need not be: the file is in the user's 0700 cache dir, and a collision
 * between two of a user's command lines (about 2^-64 for billions of them) is all it must avoid.
 * SHA-256 in plain JavaScript costs a cold process about a millisecond for a long command line.
 */
function nameHash(text: string): string {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1, h2, h3, h4].map((h) => (h >>> 0).toString(16).padStart(8, "0")).join("");
}

/**
 * Where the index lives: the cache dir as the command line names it (the last --cache-dir or
 * --token-cache-dir, else KUBECACHEDIR, else $HOME/.kube/cache/kubelogin/). Only a guess, made
 * before any parsing: the writer stores an index only where the guess is the cache dir the
 * options resolved to, and the index's own checks make a wrong guess a miss, never a wrong answer.
 */
export function indexDir(argv: readonly string[], env: Env): string | undefined {
  let named: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    for (const flag of ["--cache-dir", "--token-cache-dir"]) {
      if (arg === flag) named = argv[i + 1];
      else if (arg.startsWith(`${flag}=`)) named = arg.slice(flag.length + 1);
    }
  }
  // An empty cache dir names no directory (an index read from the working directory could be anyone's).
  if (named === "") return undefined;
  // Without HOME there is no index: finding the home directory another way would cost the fast path more than it saves.
  return named ?? (env.KUBECACHEDIR || (env.HOME ? `${env.HOME}/.kube/cache/kubelogin/` : undefined));
}

export function indexName(call: Invocation): string {
  return `fast-${nameHash(JSON.stringify([FORMAT, BUILD, call.uid, call.cwd, ...call.argv]))}.json`;
}

/** "*" stands for the whole environment: a run that listed it depends on every variable, added ones too. */
function envDigest(names: readonly string[], env: Env): string {
  const whole = (): [string, string | undefined][] => Object.keys(env).sort().map((name) => [name, env[name]]);
  return hex(JSON.stringify(names.map((name) => (name === "*" ? whole() : (env[name] ?? null)))));
}

/** What a change to the file would change: its identity, size and times (nanoseconds); "absent" for none. */
export function fileStamp(path: string): string {
  try {
    const info = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (info === undefined) return "absent";
    return [info.dev, info.ino, info.mode, info.size, info.mtimeNs, info.ctimeNs].join(":");
  } catch (err) {
    // ENOTDIR and the like: as good as absent, but not the same stamp as a file that is missing.
    // Stryker disable next-line StringLiteral: every error statSync throws carries a code; the fallback only keeps the stamp a string
    return `error ${(err as NodeJS.ErrnoException).code ?? "unknown"}`;
  }
}

function parseIndex(text: string): HitIndex | undefined {
  const value = JSON.parse(text) as Partial<HitIndex> | null;
  // The reader's catch answers false for what gets past a check to throw below (a null index, an
  // entry that is an array, which join() refuses), and a digest that is not a string never equals one.
  if (
    // Stryker disable next-line OptionalChaining: a null index throws here instead, and the reader's catch answers false
    value?.format !== FORMAT ||
    // Stryker disable next-line ConditionalExpression: a non-string entry fails the name pattern, or (an array of one name) join() throws
    typeof value.entry !== "string" ||
    !TOKEN_ENTRY_PATTERN.test(value.entry) ||
    (value.apiVersion !== V1 && value.apiVersion !== V1BETA1) ||
    !Array.isArray(value.env) ||
    !value.env.every((name) => typeof name === "string") ||
    // Stryker disable next-line ConditionalExpression: a digest that is not a string never equals the one computed
    typeof value.envDigest !== "string" ||
    !Array.isArray(value.files) ||
    !value.files.every((file) => Array.isArray(file) && file.length === 2 && file.every((part) => typeof part === "string"))
  ) {
    return undefined;
  }
  return value as HitIndex;
}

/**
 * Answers the call from its index: writes the ExecCredential to `stdout` and returns true, or
 * returns false having written nothing (no index, anything changed, a stale entry, an unreadable
 * file, a file or dir another user could have written) or with a write that failed, which the full CLI makes again and reports.
 */
export function serveFromIndex(call: Invocation, now: number, stdout: Output): boolean {
  try {
    const dir = indexDir(call.argv, call.env);
    // Stryker disable next-line ConditionalExpression: join() throws on an undefined dir, and the catch answers false
    if (dir === undefined) return false;
    // Only what this user alone could have written is served (cache/trust.ts); the full CLI reports what is not.
    assertTrustedDirSync(dir, call.uid);
    const index = parseIndex(readTrustedFileSync(join(dir, indexName(call)), call.uid));
    // Stryker disable next-line ConditionalExpression: an undefined index throws on .env, and the catch answers false
    if (index === undefined || envDigest(index.env, call.env) !== index.envDigest) return false;
    if (!index.files.every(([path, stamp]) => fileStamp(path) === stamp)) return false;
    const read = parseTokenEntry(readTrustedFileSync(join(dir, index.entry), call.uid), now);
    if (read.kind !== "hit" || !isFresh(read.token, now)) return false;
    stdout.write(formatExecCredential(index.apiVersion, read.token));
    return true;
  } catch {
    return false;
  }
}

/** What the use case tells the index writer after answering from a cache entry. */
export interface ServedEntry {
  readonly entry: string;
  readonly apiVersion: ExecApiVersion;
  /** The store the entry is in; the index is written there too. */
  readonly store: TokenStore;
  readonly cacheDir: string;
  /** The files the plan that named the entry read (LoginPlan.inputs). */
  readonly inputs: readonly string[];
  /** Plans again, to see that the files still give the same entry. */
  replan(): Promise<LoginPlan>;
  /** The entry name for a plan's key (cache/token-cache.ts tokenEntryName). */
  entryFor(plan: LoginPlan): string;
}

/** What the run read of its environment, and whether the same call answered from the cache would print anything. */
export interface RunTrace {
  /** The names of the variables read; "*" when the whole environment was listed. */
  readonly envNames: ReadonlySet<string>;
  /** -v, or a notice while options were prepared (a deprecated flag): the fast path would not say it. */
  readonly printed: boolean;
}

/**
 * Writes the index for a call that was answered silently from `served`'s entry: only where the
 * reader will look, only when the plan still names that entry with its files unchanged while it
 * planned (so the stamps are those of what it read), and only for a plain bearer token (a PoP
 * token is a new envelope every call). Never fails the call: an index that cannot be written is
 * only a slower next call.
 */
export async function rememberServedEntry(call: Invocation, trace: () => RunTrace, served: ServedEntry): Promise<void> {
  try {
    const dir = indexDir(call.argv, call.env);
    // Stryker disable next-line ConditionalExpression: resolve() throws on an undefined dir, and the catch writes nothing all the same
    if (trace().printed || dir === undefined || resolve(call.cwd, dir) !== resolve(call.cwd, served.cacheDir)) return;
    // Nothing goes into a dir another user could write, nor is anything pruned there (its store has said why at -v 1).
    if ((await cacheDirRefusal(served.cacheDir, call.uid)) !== undefined) return;
    // Absolute, as the fast path will stat them (the cwd is in the index's name, so it is the same).
    const absolute = (inputs: readonly string[]): string[] => [...new Set(inputs.map((path) => resolve(call.cwd, path)))].sort();
    const paths = absolute(served.inputs);
    const before = paths.map(fileStamp);
    const plan = await served.replan();
    const after = paths.map(fileStamp);
    const unchanged = before.every((stamp, i) => stamp === after[i]) && JSON.stringify(absolute(plan.inputs)) === JSON.stringify(paths);
    if (!unchanged || plan.present || plan.warnings.length > 0 || served.entryFor(plan) !== served.entry) return;
    const names = [...new Set([...trace().envNames, "HOME", "KUBECACHEDIR"])].sort();
    const index: HitIndex = {
      format: FORMAT,
      entry: served.entry,
      apiVersion: served.apiVersion,
      env: names,
      envDigest: envDigest(names, call.env),
      files: paths.map((path, i) => [path, before[i]!] as const),
    };
    await served.store.write(indexName(call), `${JSON.stringify(index)}\n`);
    await pruneIndexes(served.cacheDir);
  } catch {
    // A cache dir that cannot take the index (read-only, full) serves this call the slower way.
  }
}

/**
 * The cwd is in an index's name, so a user who runs kubectl from many directories collects one
 * per directory: the oldest beyond this many are removed when one is written (a removed one is
 * only a slower next call from that directory, which writes it again).
 */
export const MAX_INDEXES = 64;

async function pruneIndexes(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((name) => INDEX_ENTRY_PATTERN.test(name));
  // Stryker disable next-line ConditionalExpression,EqualityOperator: with at most MAX_INDEXES the slice below removes nothing; returning early only saves the stats
  if (names.length <= MAX_INDEXES) return;
  const aged = await Promise.all(names.map(async (name) => ({ name, mtime: (await stat(join(dir, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
  aged.sort((a, b) => a.mtime - b.mtime);
  await Promise.all(aged.slice(0, aged.length - MAX_INDEXES).map(({ name }) => unlink(join(dir, name)).catch(() => undefined)));
}

/** Records which variables a run reads of `env`: a listing of all of them counts as reading "*". */
export function recordingEnv(env: Env): { env: Env; names: Set<string> } {
  const names = new Set<string>();
  const proxy = new Proxy(env, {
    get(target, name, receiver) {
      if (typeof name === "string") names.add(name);
      return Reflect.get(target, name, receiver) as unknown;
    },
    has(target, name) {
      if (typeof name === "string") names.add(name);
      return Reflect.has(target, name);
    },
    getOwnPropertyDescriptor(target, name) {
      if (typeof name === "string") names.add(name);
      return Reflect.getOwnPropertyDescriptor(target, name);
    },
    ownKeys(target) {
      names.add("*");
      return Reflect.ownKeys(target);
    },
  });
  return { env: proxy, names };
}
