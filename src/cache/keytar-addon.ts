// Where keytar comes from. Installed with npm, it is the keytar package, imported as before. In the
// single executable (scripts/package.mjs) there is no node_modules and an SEA's require() reaches
// only built-in modules, so the addon travels inside the executable as the asset KEYTAR_ASSET and
// is loaded with process.dlopen from a copy on disk. keytar is an N-API addon, so the file built
// against the packaging Node loads in whichever Node the executable embeds; its native exports are
// the calls the keychain store makes (keytar's lib/keytar.js only adds argument checks).
//
// The copy is what a native library gets loaded from, so it must be as trusted as the executable:
// a 0700 directory of ours on a path where no one else can rename or replace anything (every
// ancestor up to / belongs to us or root and only they may write to it, unless it is sticky like
// /tmp), a file named by the asset's SHA-256 (an upgrade never loads an older copy, and two
// versions side by side never overwrite each other), and its bytes checked against the asset before
// each load. The check and the load are on one open descriptor (Linux's /proc/self/fd/N), so the
// file cannot be swapped between them; where no such path exists the addon is not loaded. A copy
// that fails the check is replaced by one written to a temporary name and renamed over it, so
// concurrent first uses never see a half-written file.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, constants as fsConstants, type Stats } from "node:fs";
import { lstat, mkdir, open, realpath, rename, rm, type FileHandle } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import * as sea from "node:sea";

/** The addon's name among the executable's assets (pkg.config.json). */
export const KEYTAR_ASSET = "keytar.node";

/** keytar's module: the npm package, or in the single executable the embedded addon. */
export async function importKeytar(): Promise<unknown> {
  if (!sea.isSea()) {
    // A variable specifier: keytar is optional, so neither tsc nor the bundle may require it.
    const specifier = "keytar";
    return import(specifier);
  }
  // getRawAsset: a view of the executable's own bytes, no copy. It throws only for a missing asset.
  let asset: Uint8Array;
  try {
    asset = new Uint8Array(sea.getRawAsset(KEYTAR_ASSET) as ArrayBuffer);
  } catch {
    throw new Error("this executable was packaged without the keychain addon (keytar was not built where npm run package ran)");
  }
  return loadEmbeddedAddon(asset, addonDirs(process.env), dlopen);
}

/**
 * Where the copy may live, best first: $XDG_RUNTIME_DIR (per user, 0700, emptied at logout), then
 * the user's cache directory. A place that fails (not private, read-only, mounted noexec) passes to
 * the next.
 */
export function addonDirs(env: NodeJS.ProcessEnv, home: string = homedir()): string[] {
  const dirs: string[] = [];
  if (env.XDG_RUNTIME_DIR?.startsWith("/")) dirs.push(join(env.XDG_RUNTIME_DIR, "kubelogin"));
  const cache = env.XDG_CACHE_HOME?.startsWith("/") ? env.XDG_CACHE_HOME : join(home, ".cache");
  dirs.push(join(cache, "kubelogin"));
  return dirs;
}

function dlopen(path: string): unknown {
  const module = { exports: {} as unknown };
  process.dlopen(module, path);
  return module.exports;
}

/**
 * A path that opens the file already open as `fd` (not whatever its name points to by then), or
 * undefined where the system has none.
 */
export function linuxDescriptorPath(fd: number): string | undefined {
  return process.platform === "linux" && existsSync("/proc/self/fd") ? `/proc/self/fd/${fd}` : undefined;
}

/**
 * Writes `asset` to the first of `dirs` that is private and loads it from there with `load`,
 * handing it the path `descriptorPath` gives for the descriptor the copy was checked through.
 */
export async function loadEmbeddedAddon(
  asset: Uint8Array,
  dirs: readonly string[],
  load: (path: string) => unknown,
  descriptorPath: (fd: number) => string | undefined = linuxDescriptorPath,
): Promise<unknown> {
  const digest = sha256(asset);
  const failures: string[] = [];
  for (const dir of dirs) {
    try {
      await privateDir(dir);
      const file = join(dir, `keytar-${digest.slice(0, 32)}.node`);
      let verified = await openVerified(file, digest);
      if (!verified) {
        await writeCopy(file, asset);
        verified = await openVerified(file, digest);
        if (!verified) throw new Error(`${file} does not hold the embedded addon after writing it`);
      }
      try {
        const path = descriptorPath(verified.fd);
        // Loading by name would open the file a second time, after the check: it could be another file by then.
        if (path === undefined) throw new Error(`no path reaches the checked descriptor of ${file} on ${process.platform} (/proc/self/fd)`);
        return load(path);
      } finally {
        await verified.close();
      }
    } catch (err) {
      failures.push(`${dir}: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`);
    }
  }
  throw new Error(`the embedded keytar addon cannot be loaded (${failures.join("; ")})`);
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const uid = (): number | undefined => process.getuid?.();
/** Only a directory's owner may rename its entries (/tmp). */
const STICKY = 0o1000;
/** Group or others may write. */
const sharedWrite = (mode: number): boolean => (mode & 0o022) !== 0;

async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const own = await lstat(dir);
  if (!own.isDirectory()) throw new Error("not a directory (a symbolic link is not followed)");
  if (!ownedByUs(own)) throw new Error(`owned by uid ${own.uid}, not by us`);
  if ((own.mode & 0o077) !== 0) throw new Error(`mode ${(own.mode & 0o777).toString(8)} is not private (0700)`);
  // Whoever may write to an ancestor can rename what is below it away and put theirs in its place,
  // unless the ancestor is sticky (/tmp), where only an entry's owner may rename it. Both the path
  // as given and the one its symbolic links lead to are walked.
  await checkAncestors(dirname(dir));
  await checkAncestors(dirname(await realpath(dir)));
}

/** Every directory from `path` up to / belongs to us or root, and no one else may rename its entries. */
async function checkAncestors(path: string): Promise<void> {
  for (let at = path; ; at = dirname(at)) {
    const stats = await lstat(at);
    if (!ownedByUs(stats) && stats.uid !== 0) throw new Error(`its ancestor ${at} is owned by uid ${stats.uid}, not by us or root`);
    // A symbolic link's own mode means nothing; who may replace it is settled by its parent, next in the walk.
    if (!stats.isSymbolicLink() && sharedWrite(stats.mode) && (stats.mode & STICKY) === 0) {
      throw new Error(`its ancestor ${at} is writable by others (mode ${(stats.mode & 0o777).toString(8)})`);
    }
    if (dirname(at) === at) return;
  }
}

function ownedByUs(stats: Stats): boolean {
  const ours = uid();
  return ours === undefined || stats.uid === ours;
}

/**
 * `file` open, when it is a regular file of ours, written by no one else, with exactly the asset's
 * bytes; else undefined. The checks are on the descriptor, which is what gets loaded.
 */
async function openVerified(file: string, digest: string): Promise<FileHandle | undefined> {
  const handle = await open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW).catch(() => undefined);
  if (!handle) return undefined;
  let verified = false;
  try {
    const stats = await handle.stat();
    verified = stats.isFile() && ownedByUs(stats) && !sharedWrite(stats.mode) && sha256(await handle.readFile()) === digest;
  } finally {
    if (!verified) await handle.close();
  }
  return verified ? handle : undefined;
}

async function writeCopy(file: string, asset: Uint8Array): Promise<void> {
  const temp = join(dirname(file), `.keytar-${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(asset);
    } finally {
      await handle.close();
    }
    // rename replaces whatever was there (a tampered copy, a symbolic link) rather than writing through it.
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}
