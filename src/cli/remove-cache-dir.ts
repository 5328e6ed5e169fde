// `kubelogin remove-cache-dir` and its hidden, deprecated alias `remove-tokens` (compat spec §1.5,
// §4.4, revised decision 4). The default honours KUBECACHEDIR, like get-token, so the cache
// cleared is the one get-token fills. KUBECACHEDIR is kubectl's cache dir too, so unlike
// upstream's os.RemoveAll this removes only what kubelogin cached, each store clearing its own.
import { lstat, rmdir, stat } from "node:fs/promises";
import { createStores } from "../cache/stores.js";
import { CacheError, KubeloginError } from "../errors.js";
import { strconvQuote } from "../options/go-quote.js";
import { parseFlags } from "../options/parse-flags.js";
import { defaultCacheDir } from "../options/resolve.js";
import { GLOBAL_OPTIONS, type OptionSpec } from "../options/table.js";
import { goPathError, isErrno } from "../os-error.js";
import type { Command, CommandContext } from "./command.js";

export class RemoveCacheError extends KubeloginError {}

/** How long to wait for a get-token that is using the keychain (a sign-in holds it for milliseconds). */
const KEYCHAIN_LOCK_WAIT_MS = 30_000;

/**
 * Removes every store's entries from `cacheDir` (through a symlink: in its target, where get-token
 * wrote them), then the directory itself if nothing else is left in it. A missing directory is
 * success; "" is a silent no-op and a path ending in "." is refused, as Go's os.RemoveAll does
 * (golang/go#28830).
 */
async function removeCache(cacheDir: string, { rt, log }: CommandContext): Promise<void> {
  if (cacheDir === "") return;
  const fail = (err: unknown): RemoveCacheError =>
    new RemoveCacheError(`unable to delete authentication record cache in ${strconvQuote(cacheDir)}: ${describeRemoveError(err)}`, {
      hint: "check the path and its permissions",
      cause: err,
    });
  if (cacheDir === "." || /[/\\]\.$/.test(cacheDir)) throw fail(Object.assign(new Error("invalid argument"), { code: "EINVAL", syscall: "RemoveAll", path: cacheDir }));
  try {
    await stat(cacheDir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return;
    throw fail(err);
  }
  log.v(5, `removing kubelogin's cached files from ${cacheDir}`);
  try {
    // The backend choice does not matter here: keychain items of this cache dir go whatever it is now.
    const lock = { clock: rt.clock, pid: rt.pid, isProcessAlive: rt.isProcessAlive, timeoutMs: KEYCHAIN_LOCK_WAIT_MS };
    await createStores({ cacheDir, now: rt.clock.now, log, env: rt.env, lock: () => lock }).clearAll();
  } catch (err) {
    throw fail(err instanceof CacheError ? err.cause : err);
  }
  // A symlinked cache dir is the user's own arrangement: it stays, and so does its target.
  const link = await lstat(cacheDir.replace(/(.)[/\\]+$/, "$1")).catch(() => undefined);
  if (link?.isSymbolicLink()) return;
  try {
    await rmdir(cacheDir);
    log.v(5, `removed the empty directory ${cacheDir}`);
  } catch (err) {
    // Not empty (kubectl's caches, anyone's files) or removed meanwhile: it stays, as it should.
    if (isErrno(err, "ENOTEMPTY") || isErrno(err, "EEXIST") || isErrno(err, "ENOENT")) return;
    throw fail(err);
  }
}

// Go's RemoveAll works with unlinkat/openat, so its errors name those calls.
const GO_REMOVE_OPS: Readonly<Record<string, string>> = { lstat: "unlinkat", stat: "unlinkat", unlink: "unlinkat", rmdir: "unlinkat", opendir: "openfdat", scandir: "openfdat" };

function describeRemoveError(err: unknown): string {
  if (!isErrno(err)) return err instanceof Error ? err.message : String(err);
  return goPathError(err, GO_REMOVE_OPS[err.syscall ?? ""] ?? err.syscall);
}

function removeCommand(spec: { name: string; summary: string; flag: OptionSpec; hidden?: true; deprecation?: string }): Command {
  const options = [spec.flag, ...GLOBAL_OPTIONS];
  return {
    name: spec.name,
    summary: spec.summary,
    ...(spec.hidden ? { hidden: true } : {}),
    // run.ts prints cobra's `Command "<name>" is deprecated, <this>` before calling run().
    ...(spec.deprecation ? { deprecated: spec.deprecation } : {}),
    options,
    async run(args, ctx) {
      const parsed = parseFlags(args, options);
      if (parsed.help) return;
      const cacheDir = parsed.changed.has("cacheDir") ? String(parsed.values.cacheDir) : defaultCacheDir(ctx.rt.env, ctx.rt.homedir).value;
      await removeCache(cacheDir, ctx);
    },
  };
}

const SUMMARY = "Remove all cached authentication record from filesystem";

export const removeCacheDirCommand: Command = removeCommand({
  name: "remove-cache-dir",
  summary: SUMMARY,
  flag: { key: "cacheDir", flag: "--cache-dir", type: "string", help: "directory to cache authentication record and tokens" },
});

/** Upstream's old name; its flag keeps the old name too. */
export const removeTokensCommand: Command = removeCommand({
  name: "remove-tokens",
  summary: SUMMARY,
  flag: { key: "cacheDir", flag: "--token-cache-dir", type: "string", help: "directory to cache token" },
  hidden: true,
  deprecation: "remove-tokens is deprecated, use remove-cache-dir instead",
});
