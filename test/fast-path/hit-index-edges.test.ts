// The fast path's index at its edges (src/fast-path/hit-index.ts): what an index must look like to
// be used, what the writer records and refuses to record, which files pruning may remove, and what
// the recording environment counts as read. Indexes are written by the real writer
// (rememberServedEntry) into a temp cache dir through the real file store, or planted by hand
// where the test is about a file the writer would never write; the real reader answers.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { formatTokenEntry, tokenEntryName } from "../../src/cache/token-cache.js";
import { V1, V1BETA1, type ExecApiVersion } from "../../src/exec/exec-info.js";
import {
  fileStamp,
  indexDir,
  indexName,
  MAX_INDEXES,
  recordingEnv,
  rememberServedEntry,
  serveFromIndex,
  type Invocation,
  type RunTrace,
} from "../../src/fast-path/hit-index.js";
import type { LoginPlan } from "../../src/login/types.js";
import { bufferedOutput } from "../support/runtime.js";

const HOUR_S = 3600;

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "kubelogin-hit-edges-"));
  dir = join(root, "cache");
  await mkdir(dir, { mode: 0o700 });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function callWith(env: Record<string, string> = {}, cacheDir = dir): Invocation {
  return { argv: ["get-token", "--server-id", "server", "--cache-dir", cacheDir], env: { HOME: "/home/someone", ...env }, cwd: "/somewhere", uid: process.getuid?.() ?? -1 };
}

const ENTRY = tokenEntryName(["edges"]);

async function writeEntry(name = ENTRY, expiresInSeconds = HOUR_S, where = dir): Promise<void> {
  await writeFile(join(where, name), formatTokenEntry(["edges"], { token: "cached-token", expiresOn: (Math.floor(Date.now() / 1000) + expiresInSeconds) * 1000 }));
}

interface Remembered {
  readonly inputs?: readonly string[];
  readonly replannedInputs?: readonly string[];
  readonly envNames?: readonly string[];
  readonly apiVersion?: ExecApiVersion;
  readonly cacheDir?: string;
  readonly entryAfterReplan?: string;
}

/** The writer, told that `call` was answered from ENTRY, as get-token tells it. */
async function remember(call: Invocation, shape: Remembered = {}): Promise<void> {
  const cacheDir = shape.cacheDir ?? dir;
  const plan: LoginPlan = { cacheKey: ["edges"], inputs: shape.replannedInputs ?? shape.inputs ?? [], warnings: [], acquire: () => Promise.reject(new Error("no login here")) };
  const trace = (): RunTrace => ({ envNames: new Set(shape.envNames ?? []), printed: false });
  await rememberServedEntry(call, trace, {
    entry: ENTRY,
    apiVersion: shape.apiVersion ?? V1BETA1,
    store: createFileStore({ dir: cacheDir, now: Date.now, owns: () => true }),
    cacheDir,
    inputs: shape.inputs ?? [],
    replan: async () => plan,
    entryFor: () => shape.entryAfterReplan ?? ENTRY,
  });
}

function served(call: Invocation): { answered: boolean; text: string } {
  const out = bufferedOutput();
  const answered = serveFromIndex(call, Date.now(), out);
  return { answered, text: out.text() };
}

const indexPath = (call: Invocation): string => join(dir, indexName(call));
const readIndex = async (call: Invocation): Promise<Record<string, unknown>> => JSON.parse(await readFile(indexPath(call), "utf8")) as Record<string, unknown>;
const digestOf = (values: readonly unknown[]): string => createHash("sha256").update(JSON.stringify(values)).digest("hex");

describe("the index's name", () => {
  test("is a fixed function of format, build, uid, cwd and argv (an index written by this build is found by it)", () => {
    // Pinned: a change to the name function or its inputs is a new FORMAT, not a silent change.
    expect(indexName({ argv: ["get-token", "-l", "azurecli"], env: {}, cwd: "/work", uid: 1000 })).toBe("fast-2a4d11147220907acdcd7b7b1544ddf2.json");
    expect(indexName({ argv: [], env: { IGNORED: "x" }, cwd: "/", uid: 0 })).toBe("fast-3cc4b3dce73cebd1a268e7cfa7f56382.json");
  });

  test("where the reader looks: --cache-dir=… and --token-cache-dir=… on their own", () => {
    expect(indexDir(["get-token", "--cache-dir=/a"], {})).toBe("/a");
    expect(indexDir(["get-token", "--token-cache-dir=/b"], {})).toBe("/b");
    expect(indexDir(["get-token", "--cache-dir=relative/dir"], { KUBECACHEDIR: "/c" })).toBe("relative/dir");
    // A value that merely ends like the flag is not the flag.
    expect(indexDir(["get-token", "x--cache-dir="], { KUBECACHEDIR: "/c" })).toBe("/c");
  });
});

describe("file stamps", () => {
  test("a file's identity, mode, size and times; 'absent' for none; the error's code where stat fails", async () => {
    const file = join(dir, "certificate.pem");
    await writeFile(file, "certificate");
    const info = statSync(file, { bigint: true });
    expect(fileStamp(file)).toBe(`${info.dev}:${info.ino}:${info.mode}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`);
    expect(fileStamp(join(dir, "missing.pem"))).toBe("absent");
    // A link that leads back to itself: ELOOP on every Node (Node 22+ reads ENOTDIR as absent).
    await symlink("loop", join(dir, "loop"));
    expect(fileStamp(join(dir, "loop"))).toBe("error ELOOP");
  });
});

describe("what the reader accepts", () => {
  test("no index, or one that is not JSON, answers false and writes nothing", async () => {
    const call = callWith();
    expect(served(call)).toEqual({ answered: false, text: "" });
    await writeFile(indexPath(call), "{not json");
    expect(served(call)).toEqual({ answered: false, text: "" });
  });

  test("a v1 index answers with a v1 ExecCredential", async () => {
    await writeEntry();
    const call = callWith();
    await remember(call, { apiVersion: V1 });
    const { answered, text } = served(call);
    expect(answered).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ apiVersion: V1, kind: "ExecCredential", status: { token: "cached-token" } });
  });

  test("an entry that parses but is within its last minutes is not served", async () => {
    await writeEntry(ENTRY, 60);
    const call = callWith();
    await remember(call);
    expect(served(call)).toEqual({ answered: false, text: "" });
    await writeEntry(ENTRY, HOUR_S);
    expect(served(call)).toEqual({ answered: true, text: expect.stringContaining("cached-token") as string });
  });

  test("an entry named outside the index's own shape is never read, even where such a file exists", async () => {
    const call = callWith();
    await writeEntry();
    await remember(call);
    const good = await readIndex(call);
    // A valid entry one directory up, and one beside the cache's under a longer name.
    await writeEntry(ENTRY, HOUR_S, root);
    await writeEntry(`${ENTRY}.bak`);
    for (const entry of [`../${ENTRY}`, `${ENTRY}.bak`]) {
      await writeFile(indexPath(call), JSON.stringify({ ...good, entry }));
      expect(served(call)).toEqual({ answered: false, text: "" });
    }
  });

  test("env names that are not all strings, and file records that are not [path, stamp] pairs of strings", async () => {
    const call = callWith({ X: "1" });
    await writeEntry();
    const file = join(dir, "input.pem");
    await writeFile(file, "input");
    await remember(call, { inputs: [file], envNames: ["X"] });
    const good = await readIndex(call);
    expect(served(call).answered).toBe(true);

    // Each of these would answer if the shape were not checked: the digest and the stamps match.
    const env = [...(good.env as string[]), 5];
    const withNumberName = { ...good, env, envDigest: digestOf(env.map((name) => call.env[name as string] ?? null)) };
    const files = good.files as [string, string][];
    const stampOfNumber = fileStamp(123 as unknown as string);
    for (const bad of [
      withNumberName,
      { ...good, files: [[...files[0]!, "extra"]] },
      { ...good, files: [...files, [123, stampOfNumber]] },
    ]) {
      await writeFile(indexPath(call), JSON.stringify(bad));
      expect(served(call)).toEqual({ answered: false, text: "" });
    }
  });

  test("the whole environment's digest does not depend on the order its variables come in, but on every value", async () => {
    await writeEntry();
    const call = callWith({ A: "1", B: "2" });
    await remember(call, { envNames: ["*"] });
    expect(served({ ...call, env: { B: "2", HOME: "/home/someone", A: "1" } }).answered).toBe(true);
    expect(served({ ...call, env: { ...call.env, B: "3" } }).answered).toBe(false);
  });
});

describe("what the writer records, and when it records nothing", () => {
  test("the variables read, with HOME and KUBECACHEDIR, sorted; the files, absolute and sorted, with their stamps", async () => {
    await writeEntry();
    const call = { ...callWith({ ZED: "z", ALPHA: "a" }), cwd: dir };
    await writeFile(join(dir, "b.pem"), "b");
    await writeFile(join(dir, "a.pem"), "a");
    await remember(call, { inputs: ["b.pem", join(dir, "a.pem"), "b.pem"], replannedInputs: ["a.pem", "b.pem"], envNames: ["ZED", "ALPHA"] });
    const index = await readIndex(call);
    expect(index.env).toEqual(["ALPHA", "HOME", "KUBECACHEDIR", "ZED"]);
    expect(index.envDigest).toBe(digestOf(["a", "/home/someone", null, "z"]));
    expect(index.files).toEqual([
      [join(dir, "a.pem"), fileStamp(join(dir, "a.pem"))],
      [join(dir, "b.pem"), fileStamp(join(dir, "b.pem"))],
    ]);
    expect(index.entry).toBe(ENTRY);
  });

  test("nothing when the plan made again reads other files or names another entry", async () => {
    await writeEntry();
    await writeFile(join(dir, "a.pem"), "a");
    await remember(callWith({ N: "1" }), { inputs: [join(dir, "a.pem")], replannedInputs: [] });
    await remember(callWith({ N: "2" }), { entryAfterReplan: tokenEntryName(["another"]) });
    expect((await readdir(dir)).filter((name) => name.startsWith("fast-"))).toEqual([]);
  });

  test("nothing in a cache dir other than the one the reader would look in", async () => {
    const other = join(root, "other");
    await mkdir(other, { mode: 0o700 });
    await remember(callWith(), { cacheDir: other });
    expect(await readdir(other)).toEqual([]);
  });
});

describe("pruning", () => {
  const indexNamed = (i: number): string => `fast-${i.toString(16).padStart(32, "0")}.json`;

  test("removes the oldest by modification time, whatever their names' order; a dangling one first; only index names", async () => {
    // Whole seconds, so that the times read back are exactly the ones set.
    const base = Math.floor(Date.now() / 1000) * 1000 - 86_400_000;
    // Ages in an order unrelated to names and creation: i * 37 mod 71 is a permutation of 0..70.
    const count = MAX_INDEXES + 6;
    for (let i = 0; i < count; i++) {
      const name = join(dir, indexNamed(i));
      await writeFile(name, "{}");
      const age = new Date(base + ((i * 37) % 71) * 1000);
      await utimes(name, age, age);
    }
    await symlink(join(dir, "gone"), join(dir, indexNamed(0xdead)));
    // Look-alikes older than all of them, which are not indexes.
    const lookAlikes = [`x${indexNamed(1)}`, `${indexNamed(2)}.keep`];
    for (const name of lookAlikes) {
      await writeFile(join(dir, name), "{}");
      await utimes(join(dir, name), new Date(base - 10_000), new Date(base - 10_000));
    }
    await writeEntry();
    const call = callWith();
    await remember(call);

    const left = await readdir(dir);
    const indexes = left.filter((name) => /^fast-[0-9a-f]{32}\.json$/.test(name));
    expect(indexes).toHaveLength(MAX_INDEXES);
    expect(left).toEqual(expect.arrayContaining([...lookAlikes, indexName(call)]));
    expect(left).not.toContain(indexNamed(0xdead));
    const ages = await Promise.all(indexes.filter((name) => name !== indexName(call)).map(async (name) => (await stat(join(dir, name))).mtimeMs));
    // 71 planted + 1 new - 64 kept = 8 removed: the dangling link and the 7 oldest (ages 0..6 s).
    expect(Math.min(...ages)).toBe(base + 7000);
  });
});

describe("the recording environment", () => {
  test("counts string names read, probed or described; never symbols", () => {
    const recorded = recordingEnv({ A: "1" });
    const env = recorded.env as Record<string | symbol, unknown>;
    void env[Symbol.toStringTag];
    void (Symbol.iterator in env);
    void Object.getOwnPropertyDescriptor(env, Symbol.toPrimitive);
    expect([...recorded.names]).toEqual([]);
    expect(Object.getOwnPropertyDescriptor(env, "A")?.value).toBe("1");
    expect([...recorded.names]).toEqual(["A"]);
  });
});
