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
import * as nodeFs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
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

/** The file-system calls a write makes: Node's, or in tests one that fails where a kernel or a disk would. */
export type WriteFs = Pick<typeof nodeFs, "chmod" | "chown" | "open" | "readFile" | "realpath" | "rename" | "stat" | "unlink">;

/** Prepares every change, then commits them (see above); returns the files rewritten (a no-op patch writes nothing). */
export async function writeKubeconfigChanges(changes: readonly FileChange[], fs: WriteFs = nodeFs): Promise<string[]> {
  const locks: string[] = [];
  const prepared: PreparedWrite[] = [];
  try {
    for (const change of changes) locks.push(await lock(fs, change.path));
    for (const change of changes) {
      const target = await resolveTarget(fs, change.path);
      const before = await readCurrent(fs, target, change.path);
      const after = patchKubeconfigText(before.text, change.path, change.patches);
      if (after !== before.text) prepared.push(await prepareWrite(fs, target, encodeKubeconfig(after, before.encoding), change.path));
    }
    for (const write of prepared) await write.commit();
    return prepared.map((write) => write.shownPath);
  } finally {
    for (const write of prepared) await write.discard();
    for (const lockPath of locks) await fs.unlink(lockPath).catch(() => undefined);
  }
}

async function lock(fs: WriteFs, path: string): Promise<string> {
  const lockPath = `${path}.lock`;
  try {
    await (await fs.open(lockPath, "wx", 0o600)).close();
    return lockPath;
  } catch (err) {
    if (isErrno(err, "EEXIST")) throw new KubeconfigLockedError(lockPath, path);
    throw new KubeconfigError(`unable to lock kubeconfig: ${goPathError(err, "open", lockPath)}`, { cause: err });
  }
}

/** A symlinked kubeconfig (dotfile managers) stays a symlink: the file it points to is replaced. */
async function resolveTarget(fs: WriteFs, path: string): Promise<string> {
  try {
    return await fs.realpath(path);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return path;
    throw writeError(path, err);
  }
}

async function readCurrent(fs: WriteFs, target: string, shownPath: string): Promise<DecodedKubeconfig> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(target);
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
  /** Removes what commit did not use, once, whether or not commit ran or failed. */
  discard(): Promise<void>;
}

/** Errors that mean "you may not create or write this", as opposed to a failing disk. */
const NOT_ALLOWED = new Set(["EACCES", "EPERM", "EROFS"]);

async function prepareWrite(fs: WriteFs, target: string, bytes: Buffer, shownPath: string): Promise<PreparedWrite> {
  const existing = await fs.stat(target).catch((err: unknown) => {
    if (isErrno(err, "ENOENT")) return undefined;
    throw writeError(shownPath, err);
  });
  if (!existing) {
    // Only a file that vanished under us gets here with content to write; a new file is 0600.
    const temp = await stage(fs, target, bytes).catch((err: unknown) => {
      throw writeError(shownPath, err);
    });
    await fs.chmod(temp, 0o600).catch((err: unknown) => failStaged(fs, temp, shownPath, err));
    return replacement(fs, temp, target, shownPath);
  }
  let handle: FileHandle;
  try {
    handle = await fs.open(target, constants.O_WRONLY);
  } catch (err) {
    throw new KubeconfigError(goPathError(err, "open", shownPath), {
      hint: `nothing was written; you may not write ${shownPath} (kubelogin writes a kubeconfig only where kubectl could); convert a copy you own and point KUBECONFIG at it`,
      cause: err,
    });
  }
  try {
    let temp: string | undefined;
    try {
      temp = await stage(fs, target, bytes);
    } catch (err) {
      // A directory we may not write: the file itself can still be written in place, as upstream does.
      if (!(isErrno(err) && NOT_ALLOWED.has(err.code!))) throw writeError(shownPath, err);
    }
    if (temp !== undefined && existing.nlink === 1 && (await takeOver(fs, temp, existing, shownPath))) {
      await handle.close();
      return replacement(fs, temp, target, shownPath);
    }
    return inPlace(fs, handle, bytes, temp, shownPath);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** The complete new content, fsynced, in a new temporary file beside `target`; nothing is left on failure. */
async function stage(fs: WriteFs, target: string, bytes: Buffer): Promise<string> {
  const temp = join(dirname(target), `.${basename(target)}.kubelogin-${randomBytes(6).toString("hex")}.tmp`);
  const handle = await fs.open(temp, "wx", 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  return temp;
}

async function failStaged(fs: WriteFs, temp: string, shownPath: string, err: unknown): Promise<never> {
  await fs.unlink(temp).catch(() => undefined);
  throw writeError(shownPath, err);
}

/** Gives the staged file the kubeconfig's owner, group and mode; false when we may not give them away. */
async function takeOver(fs: WriteFs, temp: string, existing: Stats, shownPath: string): Promise<boolean> {
  try {
    const staged = await fs.stat(temp);
    // Stryker disable next-line ConditionalExpression: giving a file the owner and group it has is a no-op
    if (staged.uid !== existing.uid || staged.gid !== existing.gid) await fs.chown(temp, existing.uid, existing.gid);
    // After chown, which may clear set-id bits; the umask narrowed open()'s mode anyway.
    await fs.chmod(temp, existing.mode & 0o7777);
    return true;
  } catch (err) {
    if (isErrno(err, "EPERM")) return false;
    return failStaged(fs, temp, shownPath, err);
  }
}

function replacement(fs: WriteFs, temp: string, target: string, shownPath: string): PreparedWrite {
  let pending = true;
  return {
    shownPath,
    commit: async () => {
      try {
        await fs.rename(temp, target);
        pending = false;
      } catch (err) {
        throw writeError(shownPath, err);
      }
      await syncDirectory(fs, dirname(target));
    },
    // After the rename the temporary name is no longer ours: never unlink it then.
    discard: async () => {
      if (pending) await fs.unlink(temp).catch(() => undefined);
    },
  };
}

/** Writes through the existing inode: its links, owner, group, mode and extended attributes stay. */
function inPlace(fs: WriteFs, handle: FileHandle, bytes: Buffer, staged: string | undefined, shownPath: string): PreparedWrite {
  let keepStaged = false;
  return {
    shownPath,
    commit: async () => {
      try {
        for (let written = 0; written < bytes.length; ) {
          written += (await handle.write(bytes, written, bytes.length - written, written)).bytesWritten;
        }
        await handle.truncate(bytes.length);
        await handle.sync();
      } catch (err) {
        keepStaged = true;
        throw new KubeconfigError(`unable to write kubeconfig ${shownPath}: ${goPathError(err, "write", shownPath)}`, {
          hint: staged
            ? `${shownPath} may be incomplete; its complete new content is in ${staged}: check it and move it into place`
            : `${shownPath} may be incomplete; restore it from a backup and run the command again`,
          cause: err,
        });
      }
    },
    discard: async () => {
      await handle.close().catch(() => undefined);
      if (staged !== undefined && !keepStaged) await fs.unlink(staged).catch(() => undefined);
    },
  };
}

/** Makes the rename itself durable; directories cannot be opened for sync on every platform. */
async function syncDirectory(fs: WriteFs, dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, "r");
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
  return new KubeconfigError(`unable to write kubeconfig ${path}: ${goPathError(err)}`, { cause: err });
}
