// The single executable's copy of the keytar addon, against real temp dirs: where it goes, that it
// is private and named by its content, and that nothing it did not write itself is ever loaded.
// The checks are on owners and mode bits, not on access, so they hold when the tests run as root.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readlinkSync, renameSync, writeFileSync } from "node:fs";
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addonDirs, loadEmbeddedAddon } from "../../src/cache/keytar-addon.js";

const ASSET = new Uint8Array(Buffer.from("\x7fELF pretend addon, version 2"));
const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

let root: string;
const DESCRIPTOR = /^\/proc\/self\/fd\/\d+$/;
/** What each load saw: the file its path leads to (a descriptor's is the file open on it) and the bytes in it at that moment. */
let loads: Array<{ path: string; bytes: string }>;
const recordLoad = (path: string): unknown => {
  loads.push({ path: DESCRIPTOR.test(path) ? readlinkSync(path) : path, bytes: readFileSync(path, "latin1") });
  return { loaded: path };
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "kubelogin-keytar-addon-"));
  loads = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("loadEmbeddedAddon", () => {
  it("writes the asset to a 0700 dir as a 0600 file named by its SHA-256, and loads that file", async () => {
    const dir = join(root, "run", "kubelogin");
    await mkdir(join(root, "run"), { mode: 0o700 });
    const loaded = await loadEmbeddedAddon(ASSET, [dir], recordLoad);
    const [name, ...others] = await readdir(dir);
    expect(others).toEqual([]);
    expect(name).toMatch(/^keytar-[0-9a-f]{32}\.node$/);
    expect(loads).toEqual([{ path: join(dir, name!), bytes: Buffer.from(ASSET).toString("latin1") }]);
    expect(loaded).toEqual({ loaded: expect.stringMatching(DESCRIPTOR) });
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(join(dir, name!))).toBe(0o600);
  });

  it("reuses a good copy, and an upgrade writes its own beside the old one", async () => {
    const dir = join(root, "kubelogin");
    await loadEmbeddedAddon(ASSET, [dir], recordLoad);
    await loadEmbeddedAddon(ASSET, [dir], recordLoad);
    expect(loads[1]).toEqual(loads[0]);
    const upgraded = new Uint8Array(Buffer.from("\x7fELF pretend addon, version 3"));
    await loadEmbeddedAddon(upgraded, [dir], recordLoad);
    expect(loads[2]!.path).not.toBe(loads[0]!.path);
    expect(loads[2]!.bytes).toBe(Buffer.from(upgraded).toString("latin1"));
    expect(await readdir(dir)).toHaveLength(2);
  });

  it("replaces a copy whose bytes differ from the asset before loading it", async () => {
    const dir = join(root, "kubelogin");
    await loadEmbeddedAddon(ASSET, [dir], recordLoad);
    await writeFile(loads[0]!.path, "tampered");
    await loadEmbeddedAddon(ASSET, [dir], recordLoad);
    expect(loads[1]).toEqual(loads[0]);
    expect(await readFile(loads[0]!.path, "latin1")).toBe(Buffer.from(ASSET).toString("latin1"));
  });

  it("replaces a symbolic link at the copy's name rather than following it", async () => {
    const dir = join(root, "kubelogin");
    await loadEmbeddedAddon(ASSET, [dir], recordLoad);
    const elsewhere = join(root, "elsewhere.node");
    await writeFile(elsewhere, ASSET);
    await rm(loads[0]!.path);
    await symlink(elsewhere, loads[0]!.path);
    await loadEmbeddedAddon(ASSET, [dir], recordLoad);
    expect((await lstat(loads[0]!.path)).isFile()).toBe(true);
    expect(loads[1]).toEqual(loads[0]);
  });

  it("refuses a directory others may write to, a symbolic link, or one under a parent others may write to, and uses the next place", async () => {
    const shared = join(root, "shared");
    await mkdir(shared, { mode: 0o700 });
    await chmod(shared, 0o770);
    const target = join(root, "target");
    await mkdir(target, { mode: 0o700 });
    const linked = join(root, "linked");
    await symlink(target, linked);
    const openParent = join(root, "open");
    await mkdir(openParent);
    await chmod(openParent, 0o777);
    const good = join(root, "good");

    await loadEmbeddedAddon(ASSET, [shared, linked, join(openParent, "kubelogin"), good], recordLoad);
    expect(loads.map((load) => load.path)).toEqual([expect.stringMatching(new RegExp(`^${good}/keytar-`))]);
    expect(await readdir(shared)).toEqual([]);
    expect(await readdir(target)).toEqual([]);
    expect(await readdir(join(openParent, "kubelogin"))).toEqual([]);
  });

  it("accepts a directory under a sticky parent that everyone may write to (/tmp)", async () => {
    const sticky = join(root, "tmp");
    await mkdir(sticky);
    await chmod(sticky, 0o1777);
    await loadEmbeddedAddon(ASSET, [join(sticky, "kubelogin")], recordLoad);
    expect(loads).toHaveLength(1);
  });

  it("refuses ~/.cache/kubelogin when any ancestor up to / is writable by others (a HOME under a 0777 dir, no XDG_RUNTIME_DIR)", async () => {
    const open = join(root, "open");
    await mkdir(join(open, "alice"), { recursive: true, mode: 0o700 });
    await chmod(open, 0o777);
    const dirs = addonDirs({}, join(open, "alice"));
    await expect(loadEmbeddedAddon(ASSET, dirs, recordLoad)).rejects.toThrow(`its ancestor ${open} is writable by others (mode 777)`);
    expect(loads).toEqual([]);
    expect(await readdir(dirs[0]!)).toEqual([]);
  });

  // chown to another uid takes root.
  it.skipIf(process.getuid?.() !== 0)("refuses a place with an ancestor owned by another user (not root), even one others cannot write to", async () => {
    const theirs = join(root, "theirs");
    await mkdir(join(theirs, "home"), { recursive: true, mode: 0o755 });
    await chown(theirs, 4242, 4242);
    await expect(loadEmbeddedAddon(ASSET, [join(theirs, "home", "kubelogin")], recordLoad)).rejects.toThrow(`its ancestor ${theirs} is owned by uid 4242, not by us or root`);
    expect(loads).toEqual([]);
  });

  it("walks the path a symbolic link leads to as well: a link to a place under a 0777 dir is refused", async () => {
    const open = join(root, "open");
    await mkdir(join(open, "real"), { recursive: true, mode: 0o700 });
    await chmod(open, 0o777);
    await symlink(join(open, "real"), join(root, "home"));
    await expect(loadEmbeddedAddon(ASSET, [join(root, "home", "kubelogin")], recordLoad)).rejects.toThrow(`its ancestor ${open} is writable by others (mode 777)`);
    expect(loads).toEqual([]);
  });

  it("loads the file it checked, through its open descriptor: a file renamed over the copy after the check is not what gets loaded", async () => {
    const dir = join(root, "kubelogin");
    const copy = join(dir, `keytar-${createHash("sha256").update(ASSET).digest("hex").slice(0, 32)}.node`);
    await loadEmbeddedAddon(ASSET, [dir], (path) => {
      writeFileSync(join(dir, "planted"), "planted addon");
      renameSync(join(dir, "planted"), copy);
      return recordLoad(path);
    });
    expect(loads).toEqual([{ path: `${copy} (deleted)`, bytes: Buffer.from(ASSET).toString("latin1") }]);
    expect(readFileSync(copy, "latin1")).toBe("planted addon");
  });

  it("loads nothing where no path reaches the checked descriptor", async () => {
    await expect(loadEmbeddedAddon(ASSET, [join(root, "kubelogin")], recordLoad, () => undefined)).rejects.toThrow(/no path reaches the checked descriptor of .*keytar-[0-9a-f]{32}\.node/);
    expect(loads).toEqual([]);
  });

  it("says why each place failed when none will do, and loads nothing", async () => {
    const shared = join(root, "shared");
    await mkdir(shared);
    await chmod(shared, 0o777);
    const linked = join(root, "linked");
    await symlink(shared, linked);
    const file = join(root, "a-file");
    await writeFile(file, "");
    await expect(loadEmbeddedAddon(ASSET, [shared, linked, join(file, "kubelogin")], recordLoad)).rejects.toThrow(
      new RegExp(
        `^the embedded keytar addon cannot be loaded \\(${shared}: mode 777 is not private \\(0700\\); ` +
          `${linked}: not a directory \\(a symbolic link is not followed\\); ${file}/kubelogin: .*ENOTDIR.*\\)$`,
      ),
    );
    expect(loads).toEqual([]);
  });

  it.skipIf(!existsSync("node_modules/keytar/build/Release/keytar.node"))("loads keytar's real addon with process.dlopen (no keytar JS around it)", async () => {
    const addon = new Uint8Array(await readFile("node_modules/keytar/build/Release/keytar.node"));
    const exports = (await loadEmbeddedAddon(addon, [join(root, "kubelogin")], (path) => {
      const module = { exports: {} as Record<string, unknown> };
      process.dlopen(module, path);
      return module.exports;
    })) as Record<string, unknown>;
    for (const call of ["getPassword", "setPassword", "deletePassword", "findCredentials"]) expect(typeof exports[call], call).toBe("function");
  });
});

describe("addonDirs", () => {
  it("prefers $XDG_RUNTIME_DIR, then $XDG_CACHE_HOME or ~/.cache; relative values are ignored", () => {
    expect(addonDirs({ XDG_RUNTIME_DIR: "/run/user/1000", XDG_CACHE_HOME: "/home/a/.xdg-cache" }, "/home/a")).toEqual([
      "/run/user/1000/kubelogin",
      "/home/a/.xdg-cache/kubelogin",
    ]);
    expect(addonDirs({ XDG_RUNTIME_DIR: "run", XDG_CACHE_HOME: "cache" }, "/home/a")).toEqual(["/home/a/.cache/kubelogin"]);
  });
});
