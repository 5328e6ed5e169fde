// The only code that writes a kubeconfig (compat spec §5.5, style pattern 9). Every file to change
// is locked first (`<file>.lock`, exclusive create, as client-go does), then re-read and patched,
// its replacement fully written and fsynced beside it, and only then renamed into place, so a
// reader never sees a half-written kubeconfig and an error leaves every file as it was.
import { randomBytes } from "node:crypto";
import { chmod, chown, open, readFile, realpath, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KubeconfigError } from "../errors.js";
import { goPathError, isErrno } from "../os-error.js";
import type { ConvertedUser } from "./convert.js";
import { patchKubeconfigText, type UserPatch } from "./patch.js";

export interface FileChange {
  readonly path: string;
  readonly patches: readonly UserPatch[];
}

/** A `<file>.lock` that already exists: another writer is busy, or one crashed (upstream fails too). */
export class KubeconfigLockedError extends KubeconfigError {
  constructor(
    readonly lockPath: string,
    readonly kubeconfigPath: string,
  ) {
    super(`unable to lock kubeconfig: open ${lockPath}: file exists`, {
      hint: `another kubectl or kubelogin may be editing ${kubeconfigPath}; if none is running, the lock is stale: remove it (rm ${lockPath}) and run the command again`,
    });
  }
}

/** Converted users grouped by the file each came from, files in first-seen order. */
export function planWrites(users: readonly ConvertedUser[], origins: ReadonlyMap<string, string>, fallbackPath: string): FileChange[] {
  const byFile = new Map<string, UserPatch[]>();
  for (const user of users) {
    const path = origins.get(user.name) ?? fallbackPath;
    byFile.set(path, [...(byFile.get(path) ?? []), user]);
  }
  return [...byFile].map(([path, patches]) => ({ path, patches }));
}

/** Applies every change or none; returns the files actually rewritten (a no-op patch writes nothing). */
export async function writeKubeconfigChanges(changes: readonly FileChange[]): Promise<string[]> {
  const locks: string[] = [];
  const replacements: Replacement[] = [];
  try {
    for (const change of changes) locks.push(await lock(change.path));
    for (const change of changes) {
      const target = await resolveTarget(change.path);
      const before = await readCurrent(target, change.path);
      const after = patchKubeconfigText(before, change.path, change.patches);
      if (after !== before) replacements.push(await prepareReplacement(target, after, change.path));
    }
    for (const replacement of replacements) await replacement.commit();
    return replacements.map((r) => r.shownPath);
  } finally {
    for (const replacement of replacements) await replacement.discard();
    for (const lockPath of locks) await unlink(lockPath).catch(() => undefined);
  }
}

/** Writes one whole file atomically: existing permission bits are kept, a new file gets 0600. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const replacement = await prepareReplacement(await resolveTarget(path), text, path);
  try {
    await replacement.commit();
  } finally {
    await replacement.discard();
  }
}

async function lock(path: string): Promise<string> {
  const lockPath = `${path}.lock`;
  try {
    await (await open(lockPath, "wx", 0o600)).close();
    return lockPath;
  } catch (err) {
    if (isErrno(err, "EEXIST")) throw new KubeconfigLockedError(lockPath, path);
    throw new KubeconfigError(`unable to lock kubeconfig: ${goPathError(err, "open", lockPath)}`, { cause: err });
  }
}

/** A symlinked kubeconfig (dotfile managers) stays a symlink: the file it points to is replaced. */
async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return path;
    throw writeError(path, err);
  }
}

async function readCurrent(target: string, shownPath: string): Promise<string> {
  try {
    return await readFile(target, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return "";
    throw writeError(shownPath, err);
  }
}

interface Replacement {
  readonly shownPath: string;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

async function prepareReplacement(target: string, text: string, shownPath: string): Promise<Replacement> {
  const existing = await stat(target).catch((err: unknown) => {
    if (isErrno(err, "ENOENT")) return undefined;
    throw writeError(shownPath, err);
  });
  const mode = existing ? existing.mode & 0o7777 : 0o600;
  const temp = join(dirname(target), `.${basename(target)}.kubelogin-${randomBytes(6).toString("hex")}.tmp`);
  let pending = true;
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The process umask narrows open()'s mode, so set the bits explicitly.
    await chmod(temp, mode);
    // Best effort: keeps the owner when root edits another user's file; a no-op otherwise.
    if (existing) await chown(temp, existing.uid, existing.gid).catch(() => undefined);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw writeError(shownPath, err);
  }
  return {
    shownPath,
    commit: async () => {
      try {
        await rename(temp, target);
        pending = false;
      } catch (err) {
        throw writeError(shownPath, err);
      }
      await syncDirectory(dirname(target));
    },
    discard: async () => {
      if (pending) await unlink(temp).catch(() => undefined);
      pending = false;
    },
  };
}

/** Makes the rename itself durable; directories cannot be opened for sync on every platform. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot fsync a directory; the rename is still atomic there.
  }
}

function writeError(path: string, err: unknown): KubeconfigError {
  if (err instanceof KubeconfigError) return err;
  return new KubeconfigError(`unable to write kubeconfig ${path}: ${goPathError(err)}`, { cause: err });
}
