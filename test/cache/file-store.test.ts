// The file backend against a real temp dir: private modes, atomic replace, set-aside, typed
// errors, and a clear that removes exactly what the store owns.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { createFileStore, ensurePrivateDir, ORPHANED_TEMP_MS } from "../../src/cache/file-store.js";
import { readCachedToken } from "../../src/cache/token-cache.js";
import { CacheError } from "../../src/errors.js";
import { openDescriptorsUnder } from "../support/open-files.js";

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
/** A store that owns every `*.json` entry. */
const fileStore = (dir: string, now: () => number = () => NOW) => createFileStore({ dir, now, owns: (name) => name.endsWith(".json") });
const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "kubelogin-file-store-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("createFileStore", () => {
  it("names its directory as location and lock dir", () => {
    const store = fileStore(join(root, "cache"));
    expect(store.location).toBe(join(root, "cache"));
    expect(store.lockDir).toBe(join(root, "cache"));
  });

  it("creates the cache dir and its missing parents 0700 on the first write", async () => {
    const dir = join(root, "a", "b", "cache");
    const store = fileStore(dir);
    await store.write("entry.json", "{}");
    expect(await modeOf(join(root, "a"))).toBe(0o700);
    expect(await modeOf(join(root, "a", "b"))).toBe(0o700);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await readdir(dir)).toEqual(["entry.json"]);
  });

  it("writes files 0600 and dirs 0700 even under umask 0", async () => {
    const dir = join(root, "open", "cache");
    const store = fileStore(dir);
    // Stryker's vitest runner runs tests in worker threads, which cannot set the umask: there the
    // inherited one (022 or stricter) applies, and the modes below must still hold.
    const previous = isMainThread ? process.umask(0) : undefined;
    try {
      await store.write("entry.json", "secret");
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
    expect(await modeOf(join(root, "open"))).toBe(0o700);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(join(dir, "entry.json"))).toBe(0o600);
  });

  it("replaces a world-readable entry with a 0600 one", async () => {
    const dir = join(root, "cache");
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, "entry.json"), "old", { mode: 0o644 });
    const store = fileStore(dir);
    await store.write("entry.json", "new");
    expect(await modeOf(join(dir, "entry.json"))).toBe(0o600);
    expect(await readFile(join(dir, "entry.json"), "utf8")).toBe("new");
  });

  it("leaves an existing directory's mode as its owner set it", async () => {
    const dir = join(root, "shared");
    await mkdir(dir, { mode: 0o755 });
    await fileStore(dir).write("entry.json", "x");
    expect(await modeOf(dir)).toBe(0o755);
  });

  it("reads back what it wrote, and replaces content without leaving temp files", async () => {
    const dir = join(root, "cache");
    const store = fileStore(dir);
    await store.write("entry.json", "first, and longer than the second");
    await store.write("entry.json", "second");
    expect(await store.read("entry.json")).toBe("second");
    expect(await readdir(dir)).toEqual(["entry.json"]);
  });

  it("reads a missing entry, or a missing dir, as null", async () => {
    const store = fileStore(join(root, "never-made"));
    expect(await store.read("entry.json")).toBeNull();
    await store.write("other.json", "x");
    expect(await store.read("entry.json")).toBeNull();
  });

  it("reads a directory where an entry was as empty content, which readers take for a corrupt entry and set aside", async () => {
    const dir = join(root, "cache");
    await mkdir(join(dir, "entry.json"), { recursive: true });
    expect(await fileStore(dir).read("entry.json")).toBe("");
  });

  it("throws a CacheError for a cache dir that cannot be made (a path under a regular file, which holds for root too)", async () => {
    await writeFile(join(root, "file"), "x");
    const dir = join(root, "file", "cache");
    const failure = fileStore(dir).write("entry.json", "x");
    await expect(failure).rejects.toBeInstanceOf(CacheError);
    await expect(failure).rejects.toMatchObject({ message: expect.stringContaining(dir), cause: expect.objectContaining({ code: "ENOTDIR" }) });
    await expect(fileStore(dir).read("entry.json")).rejects.toBeInstanceOf(CacheError);
    await expect(fileStore(dir).clear()).rejects.toBeInstanceOf(CacheError);
  });

  it("refuses an entry it does not own (it would survive clear), as a programming error, not a CacheError", async () => {
    const store = fileStore(join(root, "cache"));
    await expect(store.write("auth.txt", "x")).rejects.toThrow("does not own the entry auth.txt");
    await expect(store.write("auth.txt", "x")).rejects.not.toBeInstanceOf(CacheError);
    await expect(store.read("../escape.json")).rejects.toThrow("does not own");
    expect(existsSync(join(root, "cache"))).toBe(false);
  });

  it("removes its temp file when the rename fails", async () => {
    const dir = join(root, "cache");
    await mkdir(join(dir, "entry.json"), { recursive: true });
    await expect(fileStore(dir).write("entry.json", "x")).rejects.toMatchObject({ name: "CacheError", cause: expect.objectContaining({ code: "EISDIR" }) });
    expect(await readdir(dir)).toEqual(["entry.json"]);
  });

  it("never shows a reader a partial or mixed entry while 32 writers race", async () => {
    // On tmpfs where there is one: fsync() of 17 MB on a VM disk takes from 0.5 to 15 seconds.
    const base = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kubelogin-file-store-"));
    onTestFinished(() => rm(base, { recursive: true, force: true }));
    const dir = join(base, "cache");
    const store = fileStore(dir);
    // Distinct payloads of 528 KiB: more than one 512 KiB write() chunk, at which a plain
    // writeFile over the entry is reliably seen torn by this test.
    const payloads = Array.from({ length: 32 }, (_, i) => `${String(i).padStart(2, "0")}:`.repeat(176 * 1024));
    const valid = new Set(payloads);
    await store.write("entry.json", payloads[0]!);

    const reads: Promise<string | null>[] = [];
    const writes = payloads.map(async (payload) => {
      reads.push(store.read("entry.json"));
      await store.write("entry.json", payload);
      reads.push(store.read("entry.json"));
    });
    let polling = true;
    const poll = async (): Promise<void> => {
      while (polling) {
        reads.push(store.read("entry.json"));
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const pollers = [poll(), poll()];
    await Promise.all(writes);
    polling = false;
    await Promise.all(pollers);

    const seen = await Promise.all(reads);
    expect(seen.length).toBeGreaterThanOrEqual(payloads.length * 2);
    // Summarised, so a failure prints lengths and heads rather than megabytes.
    const invalid = seen.filter((content) => content === null || !valid.has(content)).map((c) => c && `${c.length}:${c.slice(0, 12)}`);
    expect(invalid).toEqual([]);
    expect(valid.has((await store.read("entry.json"))!)).toBe(true);
    expect(await readdir(dir)).toEqual(["entry.json"]);
  });

  it("sets a corrupt entry aside as <name>.corrupt-<timestamp>, after which it reads as missing", async () => {
    const dir = join(root, "cache");
    const store = fileStore(dir);
    await store.write("entry.json", "{not json");
    const aside = await store.setAside("entry.json");
    expect(aside).toBe(join(dir, "entry.json.corrupt-2024-01-02T03-04-05-678Z"));
    expect(await readFile(aside!, "utf8")).toBe("{not json");
    expect(await store.read("entry.json")).toBeNull();
    expect(await readdir(dir)).toEqual(["entry.json.corrupt-2024-01-02T03-04-05-678Z"]);
  });

  it("reports undefined when there is nothing to set aside", async () => {
    expect(await fileStore(join(root, "cache")).setAside("entry.json")).toBeUndefined();
  });

  it("clears its own entries with their locks, set-aside and temp files, and nothing else", async () => {
    const dir = join(root, "cache");
    const store = fileStore(dir);
    await store.write("a.json", "a");
    await store.write("b.json", "b");
    const own = ["a.json.lock", "a.json.lock.break", "a.json.lock.stale-123", "b.json.corrupt-2024-01-02T03-04-05-678Z", "b.json.0123456789ab.tmp"];
    const others = ["notes.txt", "auth.txt.lock", "x.txt.corrupt-2024-01-02T03-04-05-678Z", "y.txt.0123456789ab.tmp", "a.jsonx"];
    for (const name of [...own, ...others]) await writeFile(join(dir, name), "x");
    await mkdir(join(dir, "http"));
    await writeFile(join(dir, "http", "c.json"), "kubectl's");

    await store.clear();
    expect((await readdir(dir)).sort()).toEqual([...others, "http"].sort());
    expect(await readFile(join(dir, "http", "c.json"), "utf8")).toBe("kubectl's");
    expect(await store.read("a.json")).toBeNull();
    await store.write("a.json", "again");
    expect(await store.read("a.json")).toBe("again");
  });

  it("clearing a missing dir is fine", async () => {
    await expect(fileStore(join(root, "never-made")).clear()).resolves.toBeUndefined();
  });

  it("clears through a symlinked dir (and a trailing /): the files go from the target", async () => {
    const target = join(root, "target");
    const link = join(root, "link");
    await fileStore(target).write("a.json", "a");
    await symlink(target, link);
    await fileStore(`${link}/`).clear();
    expect(await readdir(target)).toEqual([]);
  });

  it("clears every file it can and then reports the first it could not remove", async () => {
    const dir = join(root, "cache");
    const store = fileStore(dir);
    await store.write("b.json", "b");
    // A directory under an owned name cannot be unlinked; it is not kubelogin's to empty.
    await mkdir(join(dir, "a.json.lock"));
    const failure = store.clear();
    await expect(failure).rejects.toBeInstanceOf(CacheError);
    await expect(failure).rejects.toMatchObject({ message: expect.stringContaining(join(dir, "a.json.lock")) });
    expect(await readdir(dir)).toEqual(["a.json.lock"]);
  });

  it("removes its temp files orphaned by a killed write once they are a minute old, and no one else's", async () => {
    const dir = join(root, "cache");
    let now = Date.now();
    const store = fileStore(dir, () => now);
    await store.write("a.json", "a");
    const orphan = join(dir, "b.json.0123456789ab.tmp");
    const young = join(dir, "a.json.ba9876543210.tmp");
    const foreign = join(dir, "c.txt.0123456789ab.tmp");
    for (const path of [orphan, young, foreign]) await writeFile(path, "partial");
    const old = new Date(now - ORPHANED_TEMP_MS - 1_000);
    await utimes(orphan, old, old);
    await utimes(foreign, old, old);

    await store.write("a.json", "a2");
    expect((await readdir(dir)).sort()).toEqual(["a.json", "a.json.ba9876543210.tmp", "c.txt.0123456789ab.tmp"]);

    now += ORPHANED_TEMP_MS + 5_000;
    await store.write("a.json", "a3");
    expect((await readdir(dir)).sort()).toEqual(["a.json", "c.txt.0123456789ab.tmp"]);
  });

  it("words each failure with what it was doing, the OS error's own op and path only when they differ", async () => {
    const hint = "check that the cache dir (--cache-dir or KUBECACHEDIR) is a directory you can write";
    await writeFile(join(root, "file"), "x");
    await expect(fileStore(join(root, "file")).clear()).rejects.toMatchObject({
      message: `could not list ${join(root, "file")}: not a directory`,
      hint,
    });
    await expect(fileStore(join(root, "file", "cache")).write("entry.json", "x")).rejects.toMatchObject({
      message: `could not create the cache directory ${join(root, "file", "cache")}: not a directory`,
      hint,
    });
    // The temp file's name is 17 characters longer than the entry's: too long where the entry's is not.
    const dir = join(root, "cache");
    const name = `${"a".repeat(245)}.json`;
    const failure = fileStore(dir).write(name, "x");
    await expect(failure).rejects.toMatchObject({
      message: expect.stringMatching(new RegExp(`^could not write ${join(dir, name)}: open ${join(dir, name)}\\.[0-9a-f]{12}\\.tmp: name too long$`)),
      hint,
    });
    await mkdir(join(dir, "a.json.lock"));
    await expect(fileStore(dir).clear()).rejects.toMatchObject({ message: `could not remove ${join(dir, "a.json.lock")}: is a directory`, hint });
  });

  it("refuses an empty dir, naming the flag, instead of using the working directory", async () => {
    const store = fileStore("");
    const empty = { message: 'the cache directory is empty (--cache-dir "")', hint: expect.stringContaining("name a directory with --cache-dir") };
    await expect(store.write("entry.json", "x")).rejects.toMatchObject(empty);
    await expect(store.read("entry.json")).rejects.toMatchObject(empty);
    await expect(store.read("entry.json")).rejects.toBeInstanceOf(CacheError);
    await expect(store.setAside("entry.json")).rejects.toMatchObject(empty);
    await expect(ensurePrivateDir("")).rejects.toMatchObject(empty);
  });

  it("closes the file it wrote", async () => {
    const dir = join(root, "cache");
    await fileStore(dir).write("entry.json", "x");
    expect(await openDescriptorsUnder(dir)).toEqual([]);
  });

  it("lets two clears race: a file the other removed first is no failure", async () => {
    const dir = join(root, "cache");
    const store = fileStore(dir);
    for (let i = 0; i < 20; i++) await store.write(`e${i}.json`, "x");
    await expect(Promise.all([store.clear(), store.clear(), store.clear()])).resolves.toEqual([undefined, undefined, undefined]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("takes only exact companion suffixes as its own: a name that merely contains one is someone else's", async () => {
    const dir = join(root, "cache");
    const store = fileStore(dir);
    await store.write("a.json", "a");
    // Each would read as an owned `entry.json` if the suffix could sit anywhere.
    const others = ["entry.js.lockon", "entry.js.corrupt-1on", "entry.js.0123456789ab.tmpon"];
    for (const name of others) await writeFile(join(dir, name), "x");
    await store.clear();
    expect((await readdir(dir)).sort()).toEqual(others.sort());
  });

  it("removes only exact temp names, only files, and only once more than a minute old", async () => {
    const dir = join(root, "cache");
    const second = 1_704_164_645;
    let now = second * 1000;
    const store = fileStore(dir, () => now);
    await store.write("a.json", "a");
    const atLimit = join(dir, "b.json.0123456789ab.tmp");
    const notTemp = join(dir, "c.0123456789ab.tmp.json");
    const directory = join(dir, "d.json.0123456789ab.tmp");
    const dangling = join(dir, "e.json.0123456789ab.tmp");
    await writeFile(atLimit, "partial");
    await writeFile(notTemp, "an entry");
    await mkdir(directory);
    await symlink(join(dir, "nowhere"), dangling);
    const minuteAgo = second - ORPHANED_TEMP_MS / 1000;
    for (const path of [atLimit, notTemp, directory]) await utimes(path, minuteAgo, minuteAgo);

    await store.write("a.json", "a2");
    expect((await readdir(dir)).sort()).toEqual(["a.json", "b.json.0123456789ab.tmp", "c.0123456789ab.tmp.json", "d.json.0123456789ab.tmp", "e.json.0123456789ab.tmp"]);
    now += 1;
    await store.write("a.json", "a3");
    expect((await readdir(dir)).sort()).toEqual(["a.json", "c.0123456789ab.tmp.json", "d.json.0123456789ab.tmp", "e.json.0123456789ab.tmp"]);
  });
});

describe("a cache dir or entry another user could have written", () => {
  const trackedStore = (dir: string) => {
    const refusals: string[] = [];
    const store = createFileStore({ dir, now: () => NOW, owns: (name) => name.endsWith(".json"), refused: (path, reason) => refusals.push(`${path}: ${reason}`) });
    return { store, refusals };
  };

  it("in a dir others may write (1777), reads nothing, writes nothing and sets nothing aside, and says so", async () => {
    const dir = join(root, "shared");
    await mkdir(dir);
    await chmod(dir, 0o1777);
    await writeFile(join(dir, "entry.json"), "planted", { mode: 0o600 });
    const { store, refusals } = trackedStore(dir);
    expect(await store.read("entry.json")).toBeNull();
    await store.write("entry.json", "mine");
    await store.write("other.json", "mine");
    expect(await store.setAside("entry.json")).toBeUndefined();
    expect(await readdir(dir)).toEqual(["entry.json"]);
    expect(await readFile(join(dir, "entry.json"), "utf8")).toBe("planted");
    expect(new Set(refusals)).toEqual(new Set([`${dir}: it is writable by its group or others (mode 01777)`]));
  });

  it("in the user's own dir, does not read an entry a group or others may write, and replaces it with a private one", async () => {
    const dir = join(root, "cache");
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, "entry.json"), "written by anyone");
    await chmod(join(dir, "entry.json"), 0o666);
    const { store, refusals } = trackedStore(dir);
    expect(await store.read("entry.json")).toBeNull();
    expect(refusals).toEqual([`${join(dir, "entry.json")}: it is writable by its group or others (mode 0666)`]);
    await store.write("entry.json", "mine");
    expect(await modeOf(join(dir, "entry.json"))).toBe(0o600);
    expect(await store.read("entry.json")).toBe("mine");
  });

  it("takes a dir owned by another user for a shared one", async () => {
    const dir = join(root, "cache");
    await mkdir(dir, { mode: 0o700 });
    const refusals: string[] = [];
    const store = createFileStore({ dir, now: () => NOW, owns: () => true, uid: (process.getuid?.() ?? 0) + 1, refused: (path) => refusals.push(path) });
    await store.write("entry.json", "mine");
    expect(await readdir(dir)).toEqual([]);
    expect(refusals).toEqual([dir]);
  });

  it("reads a FIFO or a link to /dev/zero as a corrupt entry, without blocking, which readCachedToken sets aside", async () => {
    const dir = join(root, "cache");
    await mkdir(dir, { mode: 0o700 });
    execFileSync("mkfifo", [join(dir, "fifo.json")]);
    await symlink("/dev/zero", join(dir, "zero.json"));
    const store = fileStore(dir);
    for (const name of ["fifo.json", "zero.json"]) {
      const corrupt: (string | undefined)[] = [];
      expect(await readCachedToken(store, name, (aside) => corrupt.push(aside), NOW)).toBeUndefined();
      expect(corrupt).toHaveLength(1);
      expect(corrupt[0]).toMatch(new RegExp(`^${join(dir, name)}\\.corrupt-`));
    }
  });
});
