// The file backend against a real temp dir: private modes, atomic replace, set-aside, clear.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
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
    const store = createFileStore(join(root, "cache"), () => NOW);
    expect(store.location).toBe(join(root, "cache"));
    expect(store.lockDir).toBe(join(root, "cache"));
  });

  it("creates the cache dir and its missing parents 0700 on the first write", async () => {
    const dir = join(root, "a", "b", "cache");
    const store = createFileStore(dir, () => NOW);
    await store.write("entry.json", "{}");
    expect(await modeOf(join(root, "a"))).toBe(0o700);
    expect(await modeOf(join(root, "a", "b"))).toBe(0o700);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await readdir(dir)).toEqual(["entry.json"]);
  });

  it("writes files 0600 and dirs 0700 even under umask 0", async () => {
    const dir = join(root, "open", "cache");
    const store = createFileStore(dir, () => NOW);
    const previous = process.umask(0);
    try {
      await store.write("entry.json", "secret");
    } finally {
      process.umask(previous);
    }
    expect(await modeOf(join(root, "open"))).toBe(0o700);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(join(dir, "entry.json"))).toBe(0o600);
  });

  it("replaces a world-readable entry with a 0600 one", async () => {
    const dir = join(root, "cache");
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, "entry.json"), "old", { mode: 0o644 });
    const store = createFileStore(dir, () => NOW);
    await store.write("entry.json", "new");
    expect(await modeOf(join(dir, "entry.json"))).toBe(0o600);
    expect(await readFile(join(dir, "entry.json"), "utf8")).toBe("new");
  });

  it("leaves an existing directory's mode as its owner set it", async () => {
    const dir = join(root, "shared");
    await mkdir(dir, { mode: 0o755 });
    await createFileStore(dir, () => NOW).write("entry.json", "x");
    expect(await modeOf(dir)).toBe(0o755);
  });

  it("reads back what it wrote, and replaces content without leaving temp files", async () => {
    const dir = join(root, "cache");
    const store = createFileStore(dir, () => NOW);
    await store.write("entry.json", "first, and longer than the second");
    await store.write("entry.json", "second");
    expect(await store.read("entry.json")).toBe("second");
    expect(await readdir(dir)).toEqual(["entry.json"]);
  });

  it("reads a missing entry, or a missing dir, as null", async () => {
    const store = createFileStore(join(root, "never-made"), () => NOW);
    expect(await store.read("entry.json")).toBeNull();
    await store.write("other.json", "x");
    expect(await store.read("entry.json")).toBeNull();
  });

  it("rethrows read errors other than a missing file", async () => {
    const dir = join(root, "cache");
    await mkdir(join(dir, "entry.json"), { recursive: true });
    await expect(createFileStore(dir, () => NOW).read("entry.json")).rejects.toMatchObject({ code: "EISDIR" });
  });

  it("removes its temp file when the rename fails", async () => {
    const dir = join(root, "cache");
    await mkdir(join(dir, "entry.json"), { recursive: true });
    await expect(createFileStore(dir, () => NOW).write("entry.json", "x")).rejects.toMatchObject({ code: "EISDIR" });
    expect(await readdir(dir)).toEqual(["entry.json"]);
  });

  it("never shows a reader a partial or mixed entry while 32 writers race", async () => {
    // On tmpfs where there is one: fsync() of 17 MB on a VM disk takes from 0.5 to 15 seconds.
    const base = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kubelogin-file-store-"));
    onTestFinished(() => rm(base, { recursive: true, force: true }));
    const dir = join(base, "cache");
    const store = createFileStore(dir, () => NOW);
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
    const store = createFileStore(dir, () => NOW);
    await store.write("entry.json", "{not json");
    const aside = await store.setAside("entry.json");
    expect(aside).toBe(join(dir, "entry.json.corrupt-2024-01-02T03-04-05-678Z"));
    expect(await readFile(aside!, "utf8")).toBe("{not json");
    expect(await store.read("entry.json")).toBeNull();
    expect(await readdir(dir)).toEqual(["entry.json.corrupt-2024-01-02T03-04-05-678Z"]);
  });

  it("reports undefined when there is nothing to set aside", async () => {
    expect(await createFileStore(join(root, "cache"), () => NOW).setAside("entry.json")).toBeUndefined();
  });

  it("clears the whole dir, and clearing a missing dir is fine", async () => {
    const dir = join(root, "cache");
    const store = createFileStore(dir, () => NOW);
    await store.write("a.json", "a");
    await store.write("b.json", "b");
    await store.clear();
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
    await store.clear();
    expect(await store.read("a.json")).toBeNull();
    await store.write("a.json", "again");
    expect(await store.read("a.json")).toBe("again");
  });
});
