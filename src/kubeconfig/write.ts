// The only code that writes a kubeconfig (compat spec §5.5, style pattern 9), in two phases.
//
// Prepare, for every file to change: take `<file>.lock` (exclusive create, as client-go does),
// re-read and patch the file, open it for writing, then stage its new content completely: written
// and fsynced to a temporary file beside it that already has the file's owner, group and mode. A
// file we may not open for writing is refused here with upstream's `open <file>: permission
// denied` (upstream writes through the file itself, so the kernel's answer to that open decides,
// for root too). A file a rename would change (more than one link, an owner or group we may not
// give the new file) or whose directory we may not write is written later through the handle
// opened here, so its inode, links, owner, group and mode stay.
//
// Commit, only once every file is prepared: rename each staged file over its kubeconfig, or write
// the in-place ones through the handle opened while preparing.
//
// What that guarantees: any failure while preparing (a lock held, permission denied, disk full, a
// user gone) leaves every kubeconfig exactly as it was, and removes our temporary files. Each
// rename is atomic, so a reader sees a file either wholly old or wholly new. A failure during the
// commit itself (after everything was checked; a crash, or a disk filling up under an in-place
// write) can leave the files committed before it converted and the rest unchanged; an in-place
// write cut short leaves the complete new content in the staged file, which the error names.
import { randomBytes } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { chmod, chown, open, readFile, realpath, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KubeconfigError } from "../errors.js";
import { goPathError, isErrno } from "../os-error.js";
import type { ConvertedUser } from "./convert.js";
import { encodeKubeconfig, type DecodedKubeconfig } from "./encoding.js";
import { decodeKubeconfigFile } from "./model.js";
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
    const patches = byFile.get(path);
    if (patches) patches.push(user);
    else byFile.set(path, [user]);
  }
  return [...byFile].map(([path, patches]) => ({ path, patches }));
}

/** Prepares every change, then commits them (see above); returns the files rewritten (a no-op patch writes nothing). */
export async function writeKubeconfigChanges(changes: readonly FileChange[]): Promise<string[]> {
  // Stryker disable next-line ArrayDeclaration: unlinking a lock that was never taken fails and is ignored
  const locks: string[] = [];
  const prepared: PreparedWrite[] = [];
  try {
    for (const change of changes) locks.push(await lock(change.path));
    for (const change of changes) {
      const target = await resolveTarget(change.path);
      const before = await readCurrent(target, change.path);
      const after = patchKubeconfigText(before.text, change.path, change.patches);
      if (after !== before.text) prepared.push(await prepareWrite(target, encodeKubeconfig(after, before.encoding), change.path));
    }
    for (const write of prepared) await write.commit();
    return prepared.map((write) => write.shownPath);
  } finally {
    for (const write of prepared) await write.discard();
    for (const lockPath of locks) await unlink(lockPath).catch(() => undefined);
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

async function readCurrent(target: string, shownPath: string): Promise<DecodedKubeconfig> {
  let bytes: Buffer;
  try {
    bytes = await readFile(target);
  } catch (err) {
    // Stryker disable next-line StringLiteral: an empty file has no user to patch, so its encoding is never used
    if (isErrno(err, "ENOENT")) return { text: "", encoding: "utf8" };
    throw writeError(shownPath, err);
  }
  return decodeKubeconfigFile(bytes, shownPath);
}

interface PreparedWrite {
  readonly shownPath: string;
  commit(): Promise<void>;
  /** Removes what commit did not use; safe to call after commit and more than once. */
  discard(): Promise<void>;
}

/** Errors that mean "you may not create or write this", as opposed to a failing disk. */
const NOT_ALLOWED = new Set(["EACCES", "EPERM", "EROFS"]);

async function prepareWrite(target: string, bytes: Buffer, shownPath: string): Promise<PreparedWrite> {
  const existing = await stat(target).catch((err: unknown) => {
    if (isErrno(err, "ENOENT")) return undefined;
    throw writeError(shownPath, err);
  });
  if (!existing) {
    // Only a file that vanished under us gets here with content to write; a new file is 0600.
    const temp = await stage(target, bytes).catch((err: unknown) => {
      throw writeError(shownPath, err);
    });
    await chmod(temp, 0o600).catch((err: unknown) => failStaged(temp, shownPath, err));
    return replacement(temp, target, shownPath);
  }
  let handle: FileHandle;
  try {
    handle = await open(target, constants.O_WRONLY);
  } catch (err) {
    throw new KubeconfigError(goPathError(err, "open", shownPath), {
      hint: `nothing was written; you may not write ${shownPath} (kubelogin writes a kubeconfig only where kubectl could); convert a copy you own and point KUBECONFIG at it`,
      cause: err,
    });
  }
  try {
    let temp: string | undefined;
    try {
      temp = await stage(target, bytes);
    } catch (err) {
      // A directory we may not write: the file itself can still be written in place, as upstream does.
      if (!(isErrno(err) && NOT_ALLOWED.has(err.code!))) throw writeError(shownPath, err);
    }
    if (temp !== undefined && existing.nlink === 1 && (await takeOver(temp, existing, shownPath))) {
      await handle.close();
      return replacement(temp, target, shownPath);
    }
    return inPlace(handle, bytes, temp, shownPath);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** The complete new content, fsynced, in a new temporary file beside `target`; nothing is left on failure. */
async function stage(target: string, bytes: Buffer): Promise<string> {
  const temp = join(dirname(target), `.${basename(target)}.kubelogin-${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  return temp;
}

async function failStaged(temp: string, shownPath: string, err: unknown): Promise<never> {
  await unlink(temp).catch(() => undefined);
  throw writeError(shownPath, err);
}

/** Gives the staged file the kubeconfig's owner, group and mode; false when we may not give them away. */
async function takeOver(temp: string, existing: Stats, shownPath: string): Promise<boolean> {
  try {
    const staged = await stat(temp);
    // Stryker disable next-line ConditionalExpression: giving a file the owner and group it has is a no-op
    if (staged.uid !== existing.uid || staged.gid !== existing.gid) await chown(temp, existing.uid, existing.gid);
    // After chown, which may clear set-id bits; the umask narrowed open()'s mode anyway.
    await chmod(temp, existing.mode & 0o7777);
    return true;
  } catch (err) {
    if (isErrno(err, "EPERM")) return false;
    return failStaged(temp, shownPath, err);
  }
}

function replacement(temp: string, target: string, shownPath: string): PreparedWrite {
  let pending = true;
  return {
    shownPath,
    commit: async () => {
      try {
        await rename(temp, target);
        // Stryker disable next-line BooleanLiteral: after the rename, unlinking the temp name fails and is ignored
        pending = false;
      } catch (err) {
        throw writeError(shownPath, err);
      }
      await syncDirectory(dirname(target));
    },
    discard: async () => {
      if (pending) await unlink(temp).catch(() => undefined);
      // Stryker disable next-line BooleanLiteral: a second unlink fails and is ignored
      pending = false;
    },
  };
}

/** Writes through the existing inode: its links, owner, group, mode and extended attributes stay. */
function inPlace(handle: FileHandle, bytes: Buffer, staged: string | undefined, shownPath: string): PreparedWrite {
  let open = true;
  let keepStaged = false;
  return {
    shownPath,
    commit: async () => {
      try {
        for (let written = 0; written < bytes.length; ) {
          // Stryker disable next-line ArithmeticOperator: the first write of a local file writes it all (written is 0), no test can make it short
          written += (await handle.write(bytes, written, bytes.length - written, written)).bytesWritten;
        }
        await handle.truncate(bytes.length);
        await handle.sync();
      } catch (err) {
        keepStaged = staged !== undefined;
        throw new KubeconfigError(`unable to write kubeconfig ${shownPath}: ${goPathError(err, "write", shownPath)}`, {
          hint: staged
            ? `${shownPath} may be incomplete; its complete new content is in ${staged}: check it and move it into place`
            : `${shownPath} may be incomplete; restore it from a backup and run the command again`,
          cause: err,
        });
      }
    },
    discard: async () => {
      if (open) await handle.close().catch(() => undefined);
      // Stryker disable next-line BooleanLiteral: closing twice fails and is ignored
      open = false;
      if (staged !== undefined && !keepStaged) await unlink(staged).catch(() => undefined);
      // Stryker disable next-line BooleanLiteral: a second unlink fails and is ignored
      keepStaged = true;
    },
  };
}

/** Makes the rename itself durable; directories cannot be opened for sync on every platform. */
// Stryker disable all: durability across a power cut only, nothing a test can observe
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
// Stryker restore all

function writeError(path: string, err: unknown): KubeconfigError {
  return new KubeconfigError(`unable to write kubeconfig ${path}: ${goPathError(err)}`, { cause: err });
}
