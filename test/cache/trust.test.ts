// Whom the cache trusts, against real files: owners and modes, FIFOs, devices, symlinks and sizes.
// Root owns everything made here, so "another user" is this process told it is someone else (a
// uid that owns none of it); test/e2e/cache-trust.test.ts plays it with two real uids.
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { assertTrustedDirSync, cacheDirRefusal, foreignWriter, readCacheFile, readTrustedFileSync, refusalReporter } from "../../src/cache/trust.js";

const OWN = process.getuid?.() ?? 0;
const OTHER = OWN + 4242;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "kubelogin-trust-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("foreignWriter", () => {
  it("accepts only the user's own, written by no group or other; sticky or not makes no difference", () => {
    expect(foreignWriter({ uid: 7, mode: 0o100600 }, 7)).toBeUndefined();
    expect(foreignWriter({ uid: 7, mode: 0o40755 }, 7)).toBeUndefined();
    expect(foreignWriter({ uid: 8, mode: 0o100600 }, 7)).toBe("it belongs to uid 8, not to this user (uid 7)");
    expect(foreignWriter({ uid: 7, mode: 0o100620 }, 7)).toBe("it is writable by its group or others (mode 0620)");
    expect(foreignWriter({ uid: 7, mode: 0o100602 }, 7)).toBe("it is writable by its group or others (mode 0602)");
    expect(foreignWriter({ uid: 7, mode: 0o41777 }, 7)).toBe("it is writable by its group or others (mode 01777)");
  });

  it("refuses nothing where the platform has no uids", () => {
    expect(foreignWriter({ uid: 0, mode: 0o100666 }, undefined)).toBeUndefined();
    expect(foreignWriter({ uid: 0, mode: 0o100666 }, -1)).toBeUndefined();
  });
});

describe("cacheDirRefusal", () => {
  it("accepts a private dir of the user's and a missing one (made 0700 later); refuses a shared or another's dir", async () => {
    const own = join(root, "own");
    await mkdir(own, { mode: 0o700 });
    expect(await cacheDirRefusal(own, OWN)).toBeUndefined();
    expect(await cacheDirRefusal(join(root, "missing"), OWN)).toBeUndefined();
    expect(await cacheDirRefusal(own, OTHER)).toBe(`it belongs to uid ${OWN}, not to this user (uid ${OTHER})`);
    await chmod(own, 0o1777);
    expect(await cacheDirRefusal(own, OWN)).toBe("it is writable by its group or others (mode 01777)");
    expect(await cacheDirRefusal(own, undefined)).toBeUndefined();
    expect(() => assertTrustedDirSync(own, OWN)).toThrow();
    await chmod(own, 0o755);
    expect(() => assertTrustedDirSync(own, OWN)).not.toThrow();
    expect(() => assertTrustedDirSync(own, OTHER)).toThrow();
  });
});

describe("readCacheFile and readTrustedFileSync", () => {
  it("read a regular file of the user's", async () => {
    const path = join(root, "entry.json");
    await writeFile(path, "{}", { mode: 0o600 });
    expect(await readCacheFile(path, OWN, 1024)).toEqual({ kind: "text", text: "{}" });
    expect(readTrustedFileSync(path, OWN)).toBe("{}");
    expect(await readCacheFile(join(root, "missing.json"), OWN, 1024)).toEqual({ kind: "missing" });
  });

  it("refuse, unread, a file of another user's or one a group or others may write", async () => {
    const path = join(root, "entry.json");
    await writeFile(path, "{}", { mode: 0o600 });
    expect(await readCacheFile(path, OTHER, 1024)).toEqual({ kind: "refused", reason: `it belongs to uid ${OWN}, not to this user (uid ${OTHER})` });
    expect(() => readTrustedFileSync(path, OTHER)).toThrow();
    await chmod(path, 0o666);
    expect(await readCacheFile(path, OWN, 1024)).toEqual({ kind: "refused", reason: "it is writable by its group or others (mode 0666)" });
    expect(() => readTrustedFileSync(path, OWN)).toThrow();
  });

  it("take a FIFO, a symlink to /dev/zero, a directory or a file over the cap for no entry, without blocking", async () => {
    const fifo = join(root, "fifo.json");
    execFileSync("mkfifo", [fifo]);
    const zero = join(root, "zero.json");
    await symlink("/dev/zero", zero);
    const large = join(root, "large.json");
    await writeFile(large, "x".repeat(1025), { mode: 0o600 });
    const dir = join(root, "dir.json");
    await mkdir(dir);
    for (const path of [fifo, zero, large, dir]) {
      expect((await readCacheFile(path, OWN, 1024)).kind).toBe("not-an-entry");
      if (path !== large) expect(() => readTrustedFileSync(path, OWN)).toThrow();
    }
    // A file of the fast path's own cap (1 MiB) and one byte more.
    await writeFile(large, "x".repeat(1024 * 1024 + 1));
    expect(() => readTrustedFileSync(large, OWN)).toThrow();
  });
});

describe("refusalReporter", () => {
  it("says each refused path once per logger at -v 1, and nothing without a logger", () => {
    const lines: string[] = [];
    const log = { v: (level: number, message: string) => lines.push(`${level} ${message}`) };
    refusalReporter(log)("/shared", "it is writable by its group or others (mode 01777)");
    refusalReporter(log)("/shared", "it is writable by its group or others (mode 01777)");
    refusalReporter(log)("/shared/token-x.json", "it belongs to uid 1, not to this user (uid 2)");
    expect(lines).toEqual([
      "1 not using /shared from the cache: it is writable by its group or others (mode 01777), so another user could have written it",
      "1 not using /shared/token-x.json from the cache: it belongs to uid 1, not to this user (uid 2), so another user could have written it",
    ]);
    expect(() => refusalReporter(undefined)("/shared", "x")).not.toThrow();
  });
});
