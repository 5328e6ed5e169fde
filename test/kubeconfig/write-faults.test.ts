// writeKubeconfigChanges on a real directory, through a file system that fails one call the way a
// kernel or a disk would: permission refused, a read-only mount, a full disk, an I/O error. Root may
// write anything, so these paths cannot be reached by chmod in CI; write-as-user.test.ts shows the
// same refusals end to end under another uid. Each case checks what the user is told and that the
// kubeconfig is wholly old or wholly new, with no temporary file, lock or descriptor left behind.
import * as nodeFs from "node:fs/promises";
import { link, mkdtemp, readdir, readFile, rm, stat, writeFile, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { ExecConfig } from "../../src/kubeconfig/model.js";
import { writeKubeconfigChanges, type WriteFs } from "../../src/kubeconfig/write.js";
import { openDescriptorsUnder } from "../support/open-files.js";

const exec: ExecConfig = { apiVersion: "client.authentication.k8s.io/v1beta1", args: ["get-token"], command: "kubelogin", env: null, installHint: "hint", provideClusterInfo: false };
const CONFIG = "users:\n- name: u\n  user:\n    auth-provider: {name: azure}\n";
const change = (path: string) => ({ path, patches: [{ name: "u", exec }] });

const DESCRIPTIONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EIO: "i/o error",
  ENOENT: "no such file or directory",
};

/** An error shaped as Node's fs makes them: `CODE: description, syscall 'path'`, with code, syscall and path. */
function errno(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const where = path === undefined ? "" : ` '${path}'`;
  return Object.assign(new Error(`${code}: ${DESCRIPTIONS[code]}, ${syscall}${where}`), { code, syscall, path });
}

type HandleCall = "writeFile" | "sync" | "write" | "truncate" | "close";
type Call = keyof WriteFs | `handle.${HandleCall}`;

/** Fails `call` with `code` (or makes the first write write at most so many bytes, as a signal can) whenever `applies(path)` holds; everything else is Node's own. */
type Fault = { readonly call: Call; readonly applies?: (path: string) => boolean } & ({ readonly code: string } | { readonly call: "handle.write"; readonly firstWritesAtMost: number });

const isTemp = (path: string) => /\.kubelogin-[0-9a-f]{12}\.tmp$/.test(path);
const isLock = (path: string) => path.endsWith(".lock");
const isKubeconfig = (path: string) => !isTemp(path) && !isLock(path);

/** Node's fs with `faults` injected; `calls` lists every call made, as `call path`. */
function faultyFs(...faults: Fault[]): WriteFs & { calls: string[] } {
  const calls: string[] = [];
  let shortened = false;
  const failure = (call: Call, path: string) => {
    calls.push(`${call} ${typeof path === "string" ? basename(path) : "(no path)"}`);
    return faults.find((f) => f.call === call && (f.applies ?? (() => true))(path));
  };
  const error = (fault: Fault | undefined, path: string) =>
    fault && "code" in fault ? errno(fault.code, fault.call.replace("handle.", ""), fault.call.startsWith("handle.") ? undefined : path) : undefined;
  const wrapHandle = (handle: FileHandle, path: string): FileHandle =>
    new Proxy(handle, {
      get(target, key) {
        const value = Reflect.get(target, key, target) as unknown;
        if (typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          const fault = failure(`handle.${String(key)}` as Call, path);
          if (fault && "firstWritesAtMost" in fault && !shortened) {
            shortened = true;
            args[2] = Math.min(args[2] as number, fault.firstWritesAtMost);
          }
          const err = error(fault, path);
          if (err && key !== "close") throw err;
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (err) throw err;
          return result;
        };
      },
    });
  const wrap =
    <K extends keyof WriteFs>(call: K) =>
    async (path: string, ...rest: unknown[]) => {
      const err = error(failure(call, path), path);
      if (err) throw err;
      const result = await (nodeFs[call] as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
      return call === "open" ? wrapHandle(result as FileHandle, path) : result;
    };
  const fs = Object.fromEntries((["chmod", "chown", "open", "readFile", "realpath", "rename", "stat", "unlink"] as const).map((call) => [call, wrap(call)]));
  return Object.assign(fs as unknown as WriteFs, { calls });
}

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-write-faults-"));
  path = join(dir, "config");
  await writeFile(path, CONFIG, { mode: 0o640 });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectUntouched(files: string[] = ["config"]): Promise<void> {
  expect(await readFile(path, "utf8")).toBe(CONFIG);
  expect((await readdir(dir)).sort()).toEqual(files);
  expect(await openDescriptorsUnder(dir)).toEqual([]);
}

async function expectConverted(): Promise<string> {
  const text = await readFile(path, "utf8");
  expect(text).toContain("command: kubelogin");
  expect(await readdir(dir)).toEqual(["config"]);
  expect(await openDescriptorsUnder(dir)).toEqual([]);
  return text;
}

describe("refused before anything is written", () => {
  test("a lock that may not be created says so, with the lock's path", async () => {
    const fs = faultyFs({ call: "open", code: "EACCES", applies: isLock });
    await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({
      name: "KubeconfigError",
      message: `unable to lock kubeconfig: open ${path}.lock: permission denied`,
    });
    await expectUntouched();
  });

  test("a kubeconfig that may not be opened for writing: upstream's open error and a way out", async () => {
    const fs = faultyFs({ call: "open", code: "EACCES", applies: isKubeconfig });
    const failure = writeKubeconfigChanges([change(path)], fs);
    await expect(failure).rejects.toMatchObject({
      name: "KubeconfigError",
      message: `open ${path}: permission denied`,
      hint: `nothing was written; you may not write ${path} (kubelogin writes a kubeconfig only where kubectl could); convert a copy you own and point KUBECONFIG at it`,
      cause: expect.objectContaining({ code: "EACCES" }),
    });
    await expectUntouched();
  });

  test("a kubeconfig that cannot be read or stat'ed names the file and the cause", async () => {
    for (const call of ["readFile", "stat", "realpath"] as const) {
      const fs = faultyFs({ call, code: "EIO", applies: isKubeconfig });
      await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({
        name: "KubeconfigError",
        message: `unable to write kubeconfig ${path}: ${call} ${path}: i/o error`,
        cause: expect.objectContaining({ code: "EIO" }),
      });
      await expectUntouched();
    }
  });

  test("a disk that fails while staging: the staged copy is removed and the error says what failed", async () => {
    for (const call of ["handle.writeFile", "handle.sync"] as const) {
      const fs = faultyFs({ call, code: "ENOSPC", applies: isTemp });
      await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({
        name: "KubeconfigError",
        message: `unable to write kubeconfig ${path}: no space left on device`,
        cause: expect.objectContaining({ code: "ENOSPC" }),
      });
      await expectUntouched();
      const staged = fs.calls.find((call) => call.startsWith("open .config"))!.slice("open ".length);
      expect(fs.calls).toContain(`unlink ${staged}`);
    }
  });

  test("a staged file that cannot be closed is not used, and the kubeconfig stays", async () => {
    const fs = faultyFs({ call: "handle.close", code: "EIO", applies: isTemp });
    await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({ message: `unable to write kubeconfig ${path}: i/o error` });
    await expectUntouched();
  });

  test("a temporary file that may not be created for a reason other than permission fails the write", async () => {
    const fs = faultyFs({ call: "open", code: "ENOSPC", applies: isTemp });
    await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({
      message: expect.stringMatching(new RegExp(`^unable to write kubeconfig ${path}: open ${dir}/\\.config\\.kubelogin-[0-9a-f]{12}\\.tmp: no space left on device$`)),
    });
    await expectUntouched();
  });

  test("a mode that cannot be given to the staged copy fails the write and removes the copy", async () => {
    const fs = faultyFs({ call: "chmod", code: "EIO", applies: isTemp });
    await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({ message: expect.stringMatching(new RegExp(`^unable to write kubeconfig ${path}: chmod .*: i/o error$`)) });
    await expectUntouched();
  });
});

describe("a directory we may not write: the file itself is written in place, as upstream does", () => {
  test.each(["EACCES", "EPERM", "EROFS"])("temporary file refused with %s", async (code) => {
    const before = await stat(path);
    const fs = faultyFs({ call: "open", code, applies: isTemp });
    expect(await writeKubeconfigChanges([change(path)], fs)).toEqual([path]);
    await expectConverted();
    expect(fs.calls.filter((call) => call.startsWith("unlink"))).toEqual(["unlink config.lock"]);
    const after = await stat(path);
    expect([after.ino, after.mode]).toEqual([before.ino, before.mode]);
  });

  test("an owner we may not give the new file (EPERM from chown): in place, and the staged copy removed", async () => {
    const before = await stat(path);
    const fs = faultyFs({ call: "chown", code: "EPERM" });
    const mismatched: WriteFs = { ...fs, stat: (async (p: string) => (isTemp(p) ? { ...(await nodeFs.stat(p)), uid: before.uid + 1 } : nodeFs.stat(p))) as WriteFs["stat"] };
    expect(await writeKubeconfigChanges([change(path)], mismatched)).toEqual([path]);
    await expectConverted();
    expect((await stat(path)).ino).toBe(before.ino);
  });

  test("a mode we may not set (EPERM from chmod) also writes in place", async () => {
    const before = await stat(path);
    const fs = faultyFs({ call: "chmod", code: "EPERM", applies: isTemp });
    expect(await writeKubeconfigChanges([change(path)], fs)).toEqual([path]);
    await expectConverted();
    expect((await stat(path)).ino).toBe(before.ino);
  });
});

describe("a failure while committing", () => {
  test("a rename that fails names the file; the staged copy is removed and the kubeconfig stays", async () => {
    const fs = faultyFs({ call: "rename", code: "EIO" });
    await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({
      name: "KubeconfigError",
      message: expect.stringMatching(new RegExp(`^unable to write kubeconfig ${path}: rename .*\\.tmp: i/o error$`)),
    });
    await expectUntouched();
  });

  test("an in-place write cut short keeps the complete new content in the staged file, which the hint names", async () => {
    await link(path, join(dir, "other"));
    const fs = faultyFs({ call: "handle.write", code: "ENOSPC", applies: isKubeconfig });
    const failure = writeKubeconfigChanges([change(path)], fs);
    await expect(failure).rejects.toMatchObject({ name: "KubeconfigError", message: `unable to write kubeconfig ${path}: write ${path}: no space left on device` });
    const err = (await failure.catch((e: unknown) => e)) as { hint: string };
    const staged = /its complete new content is in (\S+): check it and move it into place$/.exec(err.hint)?.[1];
    expect(err.hint).toBe(`${path} may be incomplete; its complete new content is in ${staged}: check it and move it into place`);
    expect(await readFile(staged!, "utf8")).toContain("command: kubelogin");
    expect((await readdir(dir)).sort()).toEqual(["config", "other", basename(staged!)].sort());
    expect(await openDescriptorsUnder(dir)).toEqual([]);
  });

  test("with no staged copy (a directory we may not write), the hint says to restore from a backup", async () => {
    const fs = faultyFs({ call: "open", code: "EACCES", applies: isTemp }, { call: "handle.sync", code: "EIO", applies: isKubeconfig });
    await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({
      message: `unable to write kubeconfig ${path}: write ${path}: i/o error`,
      hint: `${path} may be incomplete; restore it from a backup and run the command again`,
    });
    expect(await readdir(dir)).toEqual(["config"]);
    expect(await openDescriptorsUnder(dir)).toEqual([]);
    expect(fs.calls.filter((call) => call.startsWith("unlink"))).toEqual(["unlink config.lock"]);
  });

  test("truncating after an in-place write failing is reported the same way", async () => {
    await link(path, join(dir, "other"));
    const fs = faultyFs({ call: "handle.truncate", code: "EIO", applies: isKubeconfig });
    await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({ message: `unable to write kubeconfig ${path}: write ${path}: i/o error` });
  });
});

describe("a file that vanished between reading and writing", () => {
  test("is created anew, private (0600), with the new content", async () => {
    let reads = 0;
    const fs = faultyFs({ call: "stat", code: "ENOENT", applies: (p) => isKubeconfig(p) && reads > 0 });
    const counting: WriteFs = { ...fs, readFile: (async (p: string) => ((reads += 1), nodeFs.readFile(p))) as WriteFs["readFile"] };
    expect(await writeKubeconfigChanges([change(path)], counting)).toEqual([path]);
    await expectConverted();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  test("staging or setting its mode failing leaves no file behind", async () => {
    const cases = [
      [{ call: "handle.sync", code: "ENOSPC", applies: isTemp }, new RegExp(`^unable to write kubeconfig ${path}: no space left on device$`)],
      [{ call: "chmod", code: "EIO", applies: isTemp }, new RegExp(`^unable to write kubeconfig ${path}: chmod ${dir}/\\.config\\.kubelogin-[0-9a-f]{12}\\.tmp: i/o error$`)],
    ] as const;
    for (const [fault, message] of cases) {
      const fs = faultyFs({ call: "stat", code: "ENOENT", applies: isKubeconfig }, fault);
      await expect(writeKubeconfigChanges([change(path)], fs)).rejects.toMatchObject({ name: "KubeconfigError", message: expect.stringMatching(message) });
      await expectUntouched();
    }
  });
});

describe("what a successful write touches", () => {
  test("after the rename the temporary name is not ours: only the lock is removed", async () => {
    const fs = faultyFs();
    expect(await writeKubeconfigChanges([change(path)], fs)).toEqual([path]);
    await expectConverted();
    expect(fs.calls.filter((call) => call.startsWith("unlink"))).toEqual(["unlink config.lock"]);
    const renamed = fs.calls.findIndex((call) => call.startsWith("rename"));
    const dirName = basename(dir);
    expect(fs.calls.slice(renamed + 1, renamed + 4)).toEqual([`open ${dirName}`, `handle.sync ${dirName}`, `handle.close ${dirName}`]);
  });

  test("a directory that cannot be opened or synced after the rename does not fail a write that happened", async () => {
    const isDir = (p: string) => p === dir;
    for (const call of ["open", "handle.sync"] as const) {
      await writeFile(path, CONFIG);
      const fs = faultyFs({ call, code: "EIO", applies: isDir });
      expect(await writeKubeconfigChanges([change(path)], fs)).toEqual([path]);
      await expectConverted();
    }
  });

  test("a write through the handle that stops short is continued from where it stopped", async () => {
    await link(path, join(dir, "other"));
    const shortWrites = faultyFs({ call: "handle.write", firstWritesAtMost: 7, applies: isKubeconfig });
    expect(await writeKubeconfigChanges([change(path)], shortWrites)).toEqual([path]);
    const text = await readFile(path, "utf8");
    expect(text).toBe(await readFile(join(dir, "other"), "utf8"));
    expect(text).toMatch(/^users:\n- name: u\n  user:\n    exec:\n[\s\S]*provideClusterInfo: false\n$/);
  });
});
