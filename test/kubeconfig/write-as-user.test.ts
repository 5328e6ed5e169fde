// convert-kubeconfig run as an ordinary user (issue 7 item 4, issue 6 item 8). CI runs as root, who
// may write any file, so chmod alone proves nothing there: the built CLI is started under another
// uid with setpriv, and the files it meets are set up by root with the owners and modes to test.
// Without root and setpriv these cases cannot be built; they are skipped with a visible reason,
// except in CI, where that is an error.
import { execFileSync } from "node:child_process";
import { chmod, chown, copyFile, cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { AKS_CLIENT_ID, AKS_SERVER_ID } from "../fixtures/kubeconfigs.js";
import { KUBELOGIN_BIN, runProcess } from "../support/local-stack.js";

const USER = { uid: 65534, gid: 65534 };
const FOREIGN_GROUP = 23456;

function findSetpriv(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v setpriv"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const setpriv = process.getuid?.() === 0 ? findSetpriv() : undefined;
if (!setpriv && process.env.CI) throw new Error("these tests need root and setpriv in CI");
const why = setpriv ? "" : " (skipped: needs root and setpriv to act as another user)";

const KUBECONFIG = (user: string) => `apiVersion: v1
kind: Config
users:
- name: ${user}
  user:
    auth-provider:
      config:
        apiserver-id: ${AKS_SERVER_ID}
        client-id: ${AKS_CLIENT_ID}
        tenant-id: 72f988bf-86f1-41af-91ab-2d7cd011db47
      name: azure
`;

/**
 * The user may not be able to reach the checkout (a clone under a 0700 temp dir) nor the node it
 * runs on (Node 24 lives in the checkout's .cache): the built bundles and node are copied to a
 * directory everyone can read, as an installed kubelogin would be.
 */
let installed: { node: string; bin: string } | undefined;
beforeAll(async () => {
  if (!setpriv) return;
  const dir = await mkdtemp(join(tmpdir(), "kubelogin-installed-"));
  await cp(dirname(KUBELOGIN_BIN), join(dir, "dist"), { recursive: true });
  await copyFile(process.execPath, join(dir, "node"));
  execFileSync("chmod", ["-R", "a+rX", dir]);
  installed = { node: join(dir, "node"), bin: join(dir, "dist", basename(KUBELOGIN_BIN)) };
});
afterAll(async () => {
  if (installed) await rm(dirname(installed.node), { recursive: true, force: true });
});

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A directory the user owns, holding `files` created by root with the given owner and mode. */
async function userDir(files: Record<string, { uid: number; gid: number; mode: number; text?: string }>): Promise<(name: string) => string> {
  const dir = await mkdtemp(join(tmpdir(), "kubelogin-as-user-"));
  dirs.push(dir);
  await chown(dir, USER.uid, USER.gid);
  await chmod(dir, 0o755);
  for (const [name, file] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFile(path, file.text ?? KUBECONFIG(name));
    await chown(path, file.uid, file.gid);
    await chmod(path, file.mode);
  }
  return (name) => join(dir, name);
}

function convertAsUser(args: string[], env: Record<string, string> = {}) {
  const command = [`--reuid=${USER.uid}`, `--regid=${USER.gid}`, "--clear-groups", "--", installed!.node, installed!.bin, "convert-kubeconfig", "-l", "azurecli", ...args];
  return runProcess(setpriv!, command, { PATH: "/usr/bin:/bin", HOME: "/nonexistent", ...env });
}

async function snapshot(path: string) {
  const st = await stat(path);
  return { bytes: await readFile(path, "utf8"), ino: st.ino, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
}

describe.skipIf(!setpriv)(`as a user who is not root${why}`, () => {
  test("a read-only kubeconfig is refused with upstream's permission error and left untouched", async () => {
    const path = await userDir({ config: { ...USER, mode: 0o444 } });
    const before = await snapshot(path("config"));
    const result = await convertAsUser(["--kubeconfig", path("config")]);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toMatch(new RegExp(`^Error: open ${path("config")}: permission denied\nhint: nothing was written`));
    expect(await snapshot(path("config"))).toEqual(before);
    expect(await readdir(path("."))).toEqual(["config"]);
  });

  test("someone else's file the user may write is converted in place: its owner stays", async () => {
    const path = await userDir({ config: { uid: 0, gid: 0, mode: 0o666 } });
    const before = await snapshot(path("config"));
    expect(await convertAsUser(["--kubeconfig", path("config")])).toMatchObject({ code: 0, stderr: "" });
    const after = await snapshot(path("config"));
    expect(after).toMatchObject({ ino: before.ino, uid: 0, gid: 0, mode: 0o666 });
    expect(after.bytes).toContain("command: kubelogin");
    expect(await readdir(path("."))).toEqual(["config"]);
  });

  test("a group the user is not in stays the file's group", async () => {
    const path = await userDir({ config: { uid: USER.uid, gid: FOREIGN_GROUP, mode: 0o640 } });
    expect(await convertAsUser(["--kubeconfig", path("config")])).toMatchObject({ code: 0, stderr: "" });
    expect(await snapshot(path("config"))).toMatchObject({ uid: USER.uid, gid: FOREIGN_GROUP, mode: 0o640, bytes: expect.stringContaining("command: kubelogin") });
  });

  test("KUBECONFIG=a:b with b not writable: refused before anything is written, a untouched", async () => {
    const path = await userDir({ a: { ...USER, mode: 0o600 }, b: { ...USER, mode: 0o444 } });
    const a = await snapshot(path("a"));
    const b = await snapshot(path("b"));
    const result = await convertAsUser([], { KUBECONFIG: `${path("a")}:${path("b")}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^Error: open ${path("b")}: permission denied\n`));
    expect(await snapshot(path("a"))).toEqual(a);
    expect(await snapshot(path("b"))).toEqual(b);
    expect((await readdir(path("."))).sort()).toEqual(["a", "b"]);
  });
});
