// `kubelogin remove-cache-dir` and its hidden, deprecated alias `remove-tokens` (compat spec §1.5,
// §4.4). Decision 4: the default honours KUBECACHEDIR, like get-token, so the directory removed is
// the one get-token fills.
import { lstat, rm } from "node:fs/promises";
import { KubeloginError } from "../errors.js";
import { strconvQuote } from "../options/go-quote.js";
import { parseFlags } from "../options/parse-flags.js";
import { defaultCacheDir } from "../options/resolve.js";
import { GLOBAL_OPTIONS, type OptionSpec } from "../options/table.js";
import { goPathError, isErrno } from "../os-error.js";
import type { Command, CommandContext } from "./command.js";

/**
 * One kind of cached state and how to delete it. remove-cache-dir runs every eraser in order and
 * stops at the first failure. A token store that keeps entries outside the directory (the OS
 * keychain backend) adds its own eraser to CACHE_ERASERS.
 */
export interface CacheEraser {
  readonly what: string;
  erase(cacheDir: string, ctx: CommandContext): Promise<void>;
}

export class RemoveCacheError extends KubeloginError {}

const cacheDirectoryEraser: CacheEraser = {
  what: "cache directory",
  async erase(cacheDir, { log }) {
    log.v(5, `removing ${cacheDir}`);
    try {
      await removeAll(cacheDir);
    } catch (err) {
      throw new RemoveCacheError(`unable to delete authentication record cache in ${strconvQuote(cacheDir)}: ${describeRemoveError(err)}`, {
        hint: "check the path and its permissions",
        cause: err,
      });
    }
  },
};

export const CACHE_ERASERS: readonly CacheEraser[] = [cacheDirectoryEraser];

/**
 * Go's os.RemoveAll: a missing path is success, "" is a silent no-op (golang/go#28830), a path
 * ending in "." is refused. Node's rm({ force: true }) is not used because some Node versions
 * also swallow ENOTDIR (a path under a regular file), which Go reports.
 */
export async function removeAll(path: string): Promise<void> {
  if (path === "") return;
  if (path === "." || /[/\\]\.$/.test(path)) throw Object.assign(new Error("invalid argument"), { code: "EINVAL", syscall: "RemoveAll", path });
  for (let attempt = 0; ; attempt++) {
    try {
      await rm(path, { recursive: true });
      return;
    } catch (err) {
      // ENOENT: either the path never existed, or a concurrent remover took part of the tree.
      if (!isErrno(err, "ENOENT")) throw err;
      if (!(await exists(path))) return;
      if (attempt >= 2) throw err;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return false;
    throw err;
  }
}

// Go's RemoveAll works with unlinkat/openat, so its errors name those calls.
const GO_REMOVE_OPS: Readonly<Record<string, string>> = { lstat: "unlinkat", stat: "unlinkat", unlink: "unlinkat", rmdir: "unlinkat", rm: "unlinkat", opendir: "openfdat", scandir: "openfdat" };

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
      for (const eraser of CACHE_ERASERS) {
        ctx.log.v(5, `remove-cache-dir: clearing the ${eraser.what}`);
        await eraser.erase(cacheDir, ctx);
      }
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
