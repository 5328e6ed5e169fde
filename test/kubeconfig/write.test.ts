// writeKubeconfigChanges and planWrites at their edges: which files are rewritten and how (a new
// inode by rename, or in place for a hard-linked file), what is left behind on failure, owner and
// group carried over one at a time, and the errors for a lock or a path that cannot be used.
import { chown, link, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { ExecConfig } from "../../src/kubeconfig/model.js";
import { KubeconfigLockedError, planWrites, writeKubeconfigChanges } from "../../src/kubeconfig/write.js";
import { openDescriptorsUnder } from "../support/open-files.js";

const exec: ExecConfig = { apiVersion: "client.authentication.k8s.io/v1beta1", args: ["get-token"], command: "kubelogin", env: null, installHint: "hint", provideClusterInfo: false };
const PROVIDER_USER = (name: string) => `- name: ${name}\n  user:\n    auth-provider: {name: azure}\n`;
const CONFIG = `users:\n${PROVIDER_USER("u")}`;
const change = (path: string, ...names: string[]) => ({ path, patches: (names.length ? names : ["u"]).map((name) => ({ name, exec })) });
const isRoot = process.getuid?.() === 0;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-write-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("planWrites", () => {
  test("groups users by their file, files in first-seen order, unknown users to the fallback", () => {
    const origins = new Map([["a", "/one"], ["b", "/two"], ["c", "/one"]]);
    const users = ["a", "b", "c", "d"].map((name) => ({ name, exec }));
    expect(planWrites(users, origins, "/fallback")).toEqual([
      { path: "/one", patches: [users[0], users[2]] },
      { path: "/two", patches: [users[1]] },
      { path: "/fallback", patches: [users[3]] },
    ]);
  });
});

describe("writeKubeconfigChanges", () => {
  test("replaces a converted file by rename (a new inode), leaving nothing else behind", async () => {
    const path = join(dir, "config");
    await writeFile(path, CONFIG);
    const before = await stat(path);
    expect(await writeKubeconfigChanges([change(path)])).toEqual([path]);
    expect((await stat(path)).ino).not.toBe(before.ino);
    expect(await readFile(path, "utf8")).toContain("exec:");
    expect(await readdir(dir)).toEqual(["config"]);
    expect(await openDescriptorsUnder(dir)).toEqual([]);
  });

  test("a patch that changes nothing writes nothing and reports no file", async () => {
    const path = join(dir, "config");
    await writeFile(path, CONFIG);
    await writeKubeconfigChanges([change(path)]);
    const before = await stat(path);
    expect(await writeKubeconfigChanges([change(path)])).toEqual([]);
    const after = await stat(path);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  test("a hard-linked file is written in place: same inode, no temp file left, no descriptor left open", async () => {
    const path = join(dir, "config");
    await writeFile(path, CONFIG);
    await link(path, join(dir, "other"));
    const before = await stat(path);
    expect(await writeKubeconfigChanges([change(path)])).toEqual([path]);
    expect((await stat(path)).ino).toBe(before.ino);
    expect(await readFile(join(dir, "other"), "utf8")).toContain("exec:");
    expect((await readdir(dir)).sort()).toEqual(["config", "other"]);
    expect(await openDescriptorsUnder(dir)).toEqual([]);
  });

  test("a shorter result written in place is cut to its length", async () => {
    const path = join(dir, "config");
    await writeFile(path, `${CONFIG}# ${"padding ".repeat(200)}\n`);
    await link(path, join(dir, "other"));
    await writeKubeconfigChanges([change(path)]);
    const text = await readFile(path, "utf8");
    expect(text).not.toContain("padding");
    expect(text.endsWith("provideClusterInfo: false\n")).toBe(true);
  });

  test("a failure in a later file removes the earlier file's staged copy and every lock", async () => {
    const first = join(dir, "first");
    const second = join(dir, "second");
    await writeFile(first, CONFIG);
    await writeFile(second, `users:\n${PROVIDER_USER("other")}`);
    await expect(writeKubeconfigChanges([change(first), change(second)])).rejects.toThrow(`unable to write kubeconfig ${second}: user "u" is no longer in it`);
    expect((await readdir(dir)).sort()).toEqual(["first", "second"]);
    expect(await readFile(first, "utf8")).toBe(CONFIG);
  });

  test.runIf(isRoot)("gives the new file the old one's owner and group, each on its own", async () => {
    for (const [uid, gid] of [[4321, 0], [0, 8765]] as const) {
      const path = join(dir, `config-${uid}-${gid}`);
      await writeFile(path, CONFIG);
      await chown(path, uid, gid);
      await writeKubeconfigChanges([change(path)]);
      const after = await stat(path);
      expect([after.uid, after.gid]).toEqual([uid, gid]);
    }
  });

  test("a lock that cannot be created (no such directory) is not reported as held", async () => {
    const path = join(dir, "missing", "config");
    const failure = writeKubeconfigChanges([change(path)]);
    await expect(failure).rejects.not.toBeInstanceOf(KubeconfigLockedError);
    await expect(failure).rejects.toMatchObject({
      name: "KubeconfigError",
      message: `unable to lock kubeconfig: open ${path}.lock: no such file or directory`,
      cause: expect.objectContaining({ code: "ENOENT" }),
    });
  });

  test("a file that vanished is a user gone; a symlink loop and a directory say what failed", async () => {
    await expect(writeKubeconfigChanges([change(join(dir, "gone"))])).rejects.toThrow(`unable to write kubeconfig ${join(dir, "gone")}: user "u" is no longer in it`);
    const loop = join(dir, "loop");
    await symlink(loop, loop);
    await expect(writeKubeconfigChanges([change(loop)])).rejects.toMatchObject({
      name: "KubeconfigError",
      message: `unable to write kubeconfig ${loop}: realpath ${loop}: too many symbolic links encountered`,
      cause: expect.objectContaining({ code: "ELOOP" }),
    });
    await mkdir(join(dir, "dir"));
    await expect(writeKubeconfigChanges([change(join(dir, "dir"))])).rejects.toMatchObject({
      message: `unable to write kubeconfig ${join(dir, "dir")}: is a directory`,
      cause: expect.objectContaining({ code: "EISDIR" }),
    });
    expect((await readdir(dir)).sort()).toEqual(["dir", "loop"]);
  });
});
