// The fast path's index (src/fast-path/hit-index.ts): the full CLI writes it after answering from a
// cache entry, the fast path answers from it while nothing the answer depended on has changed.
// Real files in a temp cache dir, the real get-token use case with strategies of the test's own
// (their plans read the variables and files a real plan would), the real reader.
import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rename, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { tokenEntryName } from "../../src/cache/token-cache.js";
import { getToken } from "../../src/exec/get-token.js";
import {
  INDEX_ENTRY_PATTERN,
  indexDir,
  indexName,
  MAX_INDEXES,
  recordingEnv,
  rememberServedEntry,
  serveFromIndex,
  type Invocation,
  type ServedEntry,
} from "../../src/fast-path/hit-index.js";
import type { LoginPlan, LoginStrategy, PlanContext } from "../../src/login/types.js";
import type { Env } from "../../src/options/resolve.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { bufferedOutput, testRuntime } from "../support/runtime.js";

const HOUR = 3_600_000;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-hit-index-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface PlanShape {
  /** Read of the environment, as a plan reads it (the value goes into the key). */
  readonly variable?: string;
  /** Files the plan reads; their content goes into the key. */
  readonly files?: readonly string[];
  readonly present?: LoginPlan["present"];
  readonly warnings?: readonly string[];
  /** Called at each plan, after the files are read: a file that changes while it is planned. */
  readonly duringPlan?: (count: number) => Promise<void>;
}

function strategyOf(shape: PlanShape): LoginStrategy & { logins: number } {
  let plans = 0;
  const strategy = {
    mode: "spn" as const,
    logins: 0,
    async plan(_options: unknown, context: PlanContext): Promise<LoginPlan> {
      const contents = await Promise.all((shape.files ?? []).map((file) => readFile(file, "utf8").catch(() => "absent")));
      await shape.duringPlan?.(++plans);
      return {
        cacheKey: ["test", shape.variable ? (context.env[shape.variable] ?? "unset") : "", ...contents],
        inputs: shape.files ?? [],
        warnings: shape.warnings ?? [],
        ...(shape.present ? { present: shape.present } : {}),
        acquire: async () => {
          strategy.logins++;
          return { token: `token-${strategy.logins}`, expiresOn: Date.now() + HOUR };
        },
      };
    },
  };
  return strategy;
}

/** One get-token through the full use case, wired as cli/get-token.ts wires it; returns its stdout. */
async function fullRun(strategy: LoginStrategy, call: Invocation, printed = false): Promise<string> {
  const base = testRuntime({ env: call.env, cwd: call.cwd, uid: call.uid });
  const recorded = recordingEnv(base.env);
  const rt = { ...base, env: recorded.env };
  const args = call.argv.filter((arg) => arg !== "get-token");
  const { options, provenance } = resolveOptions(parseFlags(args, GET_TOKEN_OPTIONS), rt.env, rt.homedir);
  const resolved = { options: validateOptions(options, provenance), provenance };
  const trace = () => ({ envNames: recorded.names, printed });
  const deps = { rt, log: rt.logger(0), strategyFor: async () => strategy, loginEnv: base.env, remember: (served: ServedEntry) => rememberServedEntry(call, trace, served) };
  await getToken(resolved, deps);
  return rt.stdout.text();
}

function fastRun(call: Invocation): string | undefined {
  const out = bufferedOutput();
  return serveFromIndex(call, Date.now(), out) ? out.text() : undefined;
}

/** The files are this process's: an index is served only to the user who owns it. */
const OWN_UID = process.getuid?.() ?? -1;

function callWith(env: Env = {}, extra: readonly string[] = []): Invocation {
  return { argv: ["get-token", "--server-id", "server", "--cache-dir", dir, ...extra], env: { HOME: "/home/someone", ...env }, cwd: "/somewhere", uid: OWN_UID };
}

const indexFiles = async (): Promise<string[]> => (await readdir(dir)).filter((name) => INDEX_ENTRY_PATTERN.test(name));

describe("the same call again", () => {
  test("is answered from the index with the full CLI's bytes, with no login", async () => {
    const strategy = strategyOf({ variable: "AZURE_CLIENT_ID" });
    const call = callWith({ AZURE_CLIENT_ID: "app" });
    const first = await fullRun(strategy, call);
    expect(JSON.parse(first).status.token).toBe("token-1");
    expect(fastRun(call)).toBe(first);
    expect(strategy.logins).toBe(1);
    // A hit through the full CLI (no index yet for it) writes one too.
    await unlink(join(dir, (await indexFiles())[0]!));
    expect(fastRun(call)).toBeUndefined();
    expect(await fullRun(strategy, call)).toBe(first);
    expect(fastRun(call)).toBe(first);
  });

  test("the index holds the names of what it checks, never a value", async () => {
    const strategy = strategyOf({ variable: "AZURE_CLIENT_SECRET" });
    await fullRun(strategy, callWith({ AZURE_CLIENT_SECRET: "s3cr3t-value-never-written" }));
    const [name] = await indexFiles();
    const text = await readFile(join(dir, name!), "utf8");
    expect(text).toContain('"AZURE_CLIENT_SECRET"');
    expect(text).not.toContain("s3cr3t-value-never-written");
  });
});

describe("a change the answer depends on sends the call to the full CLI", () => {
  test("a variable the run read that changes, appears or goes; not one it never read", async () => {
    const strategy = strategyOf({ variable: "AZURE_CLIENT_ID" });
    await fullRun(strategy, callWith({ AZURE_CLIENT_ID: "app" }));
    expect(fastRun(callWith({ AZURE_CLIENT_ID: "app", UNRELATED: "x" }))).toBeDefined();
    expect(fastRun(callWith({ AZURE_CLIENT_ID: "other-app" }))).toBeUndefined();
    expect(fastRun(callWith({ AZURE_CLIENT_ID: "" }))).toBeUndefined();
    expect(fastRun(callWith({}))).toBeUndefined();
    // Read but unset when indexed: setting it is a change.
    await fullRun(strategyOf({ variable: "AZURE_CLIENT_ID" }), callWith({}, ["--timeout", "1m"]));
    expect(fastRun(callWith({}, ["--timeout", "1m"]))).toBeDefined();
    expect(fastRun(callWith({ AZURE_CLIENT_ID: "app" }, ["--timeout", "1m"]))).toBeUndefined();
  });

  test("another argument, working directory or user", async () => {
    const call = callWith();
    await fullRun(strategyOf({}), call);
    expect(fastRun(call)).toBeDefined();
    expect(fastRun({ ...call, argv: [...call.argv, "-v", "0"] })).toBeUndefined();
    expect(fastRun({ ...call, argv: call.argv.slice(0, -2) })).toBeUndefined();
    expect(fastRun({ ...call, cwd: "/elsewhere" })).toBeUndefined();
    expect(fastRun({ ...call, uid: OWN_UID + 1 })).toBeUndefined();
  });

  test("a file the plan read that is rewritten (same content), replaced or removed", async () => {
    const file = join(dir, "certificate.pem");
    await writeFile(file, "certificate one");
    const strategy = strategyOf({ files: [file] });
    const call = callWith();
    await fullRun(strategy, call);
    expect(fastRun(call)).toBeDefined();
    await utimes(file, new Date(), new Date(Date.now() - 60_000));
    expect(fastRun(call)).toBeUndefined();
    await fullRun(strategy, call);
    expect(fastRun(call)).toBeDefined();
    await unlink(file);
    expect(fastRun(call)).toBeUndefined();
    // The full CLI then plans with the file gone: another key, another login.
    expect(JSON.parse(await fullRun(strategy, call)).status.token).toBe("token-2");
    expect(fastRun(call)).toBeDefined();
  });

  test("a file that changes while the writer plans again is not indexed", async () => {
    const file = join(dir, "azureProfile.json");
    await writeFile(file, "signed in as A");
    let changeAtPlan = 0;
    const strategy = strategyOf({ files: [file], duringPlan: async (count) => (count === changeAtPlan ? writeFile(file, "signed in as B") : undefined) });
    // A miss plans four times: the answer's plan, again under the lock, after the login, and the writer's check.
    await fullRun(strategy, callWith());
    expect(await indexFiles()).toHaveLength(1);
    await unlink(join(dir, (await indexFiles())[0]!));
    // A hit plans twice: the answer's, and the writer's check, under which the file now changes.
    changeAtPlan = 6;
    await fullRun(strategy, callWith());
    expect(await indexFiles()).toEqual([]);
  });

  test("a stale, removed or unreadable entry, and an index that is not one", async () => {
    const call = callWith();
    await fullRun(strategyOf({}), call);
    const entry = join(dir, tokenEntryName(["test", "", ]));
    const content = JSON.parse(await readFile(entry, "utf8")) as Record<string, unknown>;
    await writeFile(entry, JSON.stringify({ ...content, expiresOn: Date.now() + 60_000 }));
    expect(fastRun(call)).toBeUndefined();
    await writeFile(entry, "{not json");
    expect(fastRun(call)).toBeUndefined();
    await unlink(entry);
    expect(fastRun(call)).toBeUndefined();

    await fullRun(strategyOf({}), call);
    const index = join(dir, indexName(call));
    const good = JSON.parse(await readFile(index, "utf8")) as Record<string, unknown>;
    for (const bad of [{ ...good, entry: "../token-0000000000000000000000000000000000000000.json" }, { ...good, format: "v0" }, { ...good, apiVersion: "v2" }, { ...good, files: [["/x"]] }, null]) {
      await writeFile(index, JSON.stringify(bad));
      expect(fastRun(call)).toBeUndefined();
    }
  });
});

describe("what is never indexed", () => {
  test("a PoP token (a new envelope every call), a plan with warnings, a run that printed", async () => {
    await fullRun(strategyOf({ present: (token, now) => `${token}@${now}` }), callWith());
    await fullRun(strategyOf({ warnings: ["unknown environment"] }), callWith({}, ["--timeout", "1m"]));
    await fullRun(strategyOf({}), callWith({}, ["--timeout", "2m"]), true);
    expect(await indexFiles()).toEqual([]);
  });

  test("where the reader looks: --cache-dir, else KUBECACHEDIR, else under HOME, else nowhere (nor for an empty --cache-dir)", async () => {
    expect(indexDir(["get-token"], { HOME: "/home/a" })).toBe("/home/a/.kube/cache/kubelogin/");
    expect(indexDir(["get-token"], { HOME: "/home/a", KUBECACHEDIR: "/c" })).toBe("/c");
    expect(indexDir(["--cache-dir=/a", "--token-cache-dir", "/b"], { KUBECACHEDIR: "/c" })).toBe("/b");
    expect(indexDir(["--", "--cache-dir", "/a"], { KUBECACHEDIR: "/c" })).toBe("/c");
    expect(indexDir(["get-token"], {})).toBeUndefined();
    // An empty --cache-dir names no directory: not the working directory, nor KUBECACHEDIR.
    expect(indexDir(["--cache-dir", ""], { HOME: "/home/a", KUBECACHEDIR: "/c" })).toBeUndefined();
    expect(indexDir(["--token-cache-dir="], { HOME: "/home/a" })).toBeUndefined();
    // No HOME: the cache dir is the runtime's home directory, where the reader cannot look cheaply.
    const call: Invocation = { argv: ["get-token", "--server-id", "server"], env: {}, cwd: "/", uid: 1 };
    await fullRun(strategyOf({}), call);
    expect(fastRun(call)).toBeUndefined();
  });
});

test("listing the environment counts as reading all of it", async () => {
  const strategy: LoginStrategy = {
    mode: "spn",
    async plan(_options, context) {
      return { cacheKey: ["all", String(Object.keys(context.env).length)], inputs: [], warnings: [], acquire: async () => ({ token: "t", expiresOn: Date.now() + HOUR }) };
    },
  };
  const call = callWith({ A: "1" });
  await fullRun(strategy, call);
  expect(fastRun(call)).toBeDefined();
  expect(fastRun(callWith({ A: "1", B: "2" }))).toBeUndefined();
  const recorded = recordingEnv({ X: "1" });
  expect("X" in recorded.env && recorded.env.Y === undefined).toBe(true);
  expect([...recorded.names].sort()).toEqual(["X", "Y"]);
});

test("what only the login reads (az gets the whole environment) is no part of the index", async () => {
  const strategy: LoginStrategy = {
    mode: "azurecli",
    async plan() {
      return {
        cacheKey: ["cli"],
        inputs: [],
        warnings: [],
        acquire: async (deps) => ({ token: `seen ${Object.keys(deps.rt.env).length} variables`, expiresOn: Date.now() + HOUR }),
      };
    },
  };
  await fullRun(strategy, callWith({ A: "1" }));
  expect(fastRun(callWith({ A: "2", B: "3" }))).toBeDefined();
});

test(`at most ${MAX_INDEXES} indexes stay: the oldest go when one is written`, async () => {
  const old = new Date(Date.now() - 86_400_000);
  for (let i = 0; i < MAX_INDEXES + 5; i++) {
    const name = join(dir, `fast-${i.toString(16).padStart(32, "0")}.json`);
    await writeFile(name, "{}");
    await utimes(name, old, new Date(old.getTime() + i * 1000));
  }
  const call = callWith();
  await fullRun(strategyOf({}), call);
  const left = await indexFiles();
  expect(left).toHaveLength(MAX_INDEXES);
  expect(left).toContain(indexName(call));
  // The six oldest went (five too many, plus room for the new one).
  expect(left.filter((name) => /^fast-0{30}0[0-5]\.json$/.test(name))).toEqual([]);
  expect(fastRun(call)).toBeDefined();
});

describe("only what the user alone could have written is served", () => {
  test("not in a dir others may write (sticky or not), nor from an index or entry a group or others may write or another user owns", async () => {
    const call = callWith();
    const first = await fullRun(strategyOf({}), call);
    expect(fastRun(call)).toBe(first);
    const [index] = await indexFiles();
    const entry = (await readdir(dir)).find((name) => name.startsWith("token-"))!;
    for (const mode of [0o1777, 0o777, 0o770]) {
      await chmod(dir, mode);
      expect(fastRun(call)).toBeUndefined();
    }
    await chmod(dir, 0o700);
    expect(fastRun(call)).toBe(first);
    for (const name of [index!, entry]) {
      await chmod(join(dir, name), 0o620);
      expect(fastRun(call)).toBeUndefined();
      await chmod(join(dir, name), 0o600);
    }
    expect(fastRun(call)).toBe(first);
    // Named for another uid, the files are still this user's (dir and all): never served to that uid.
    await rename(join(dir, index!), join(dir, indexName({ ...call, uid: OWN_UID + 1 })));
    expect(fastRun({ ...call, uid: OWN_UID + 1 })).toBeUndefined();
  });

  test("in a dir others may write, a served call writes no index and prunes none of the others'", async () => {
    for (let i = 0; i < MAX_INDEXES + 5; i++) await writeFile(join(dir, `fast-${i.toString(16).padStart(32, "0")}.json`), "{}");
    await chmod(dir, 0o1777);
    const call = callWith();
    const strategy = strategyOf({});
    await fullRun(strategy, call);
    await fullRun(strategy, call);
    expect(strategy.logins).toBe(2);
    expect(await indexFiles()).toHaveLength(MAX_INDEXES + 5);
    expect(await indexFiles()).not.toContain(indexName(call));
  });

  test("a FIFO or a link to /dev/zero where the entry was answers nothing, at once", async () => {
    const call = callWith();
    await fullRun(strategyOf({}), call);
    const entry = (await readdir(dir)).find((name) => name.startsWith("token-"))!;
    await unlink(join(dir, entry));
    execFileSync("mkfifo", [join(dir, entry)]);
    expect(fastRun(call)).toBeUndefined();
    await unlink(join(dir, entry));
    await symlink("/dev/zero", join(dir, entry));
    expect(fastRun(call)).toBeUndefined();
  });
});
