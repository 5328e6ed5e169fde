// Crash safety (issue 12, item 6): the built binary is killed with SIGKILL at random moments while
// it takes the cache lock, writes the entries and renames them into place, and while
// convert-kubeconfig rewrites a kubeconfig. After every kill the cache must read back, the next
// call must get past the dead holder's lock by the stale-lock check (not by waiting it out) and
// succeed; a kubeconfig must be wholly the old file or wholly the new one.
//
// The kill moments come from a calibration of each lane: a share lands before the token request
// (start-up, plan, the lock), the rest at a random delay after the fake Entra saw the request,
// spread over answer, write, rename and unlock. Lanes run in parallel to keep the time down.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { STALE_MS } from "../../src/cache/lock.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { manyProviderUsersYaml } from "../fixtures/kubeconfigs.js";
import { KUBELOGIN_BIN, SERVER_ID } from "../support/local-stack.js";
import { loadTestPki, type TestPki } from "../support/pki.js";
import { fixedClock, testRuntime } from "../support/runtime.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = { clientId: "5b1c8f07-5c43-4a5e-b0b4-8c8a6a0d6e21", secret: "crash-Safety.secret" };
const PUBLIC_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const USER = { username: "alice@contoso.example", password: "Crash-Pass.word1" };
const GET_TOKEN_LANES = 4;
const KILLS_PER_LANE = 26;
const CONVERT_LANES = 2;
const CONVERT_KILLS_PER_LANE = 10;

let pki: TestPki;
let root: string;
beforeAll(async () => {
  pki = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
  root = await mkdtemp(join(tmpdir(), "kubelogin-crash-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function spawnKubelogin(args: readonly string[], env: Record<string, string>): { done(): boolean; kill(): void; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [KUBELOGIN_BIN, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(root, "home"), NODE_EXTRA_CA_CERTS: pki.caCertPath, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
  let done = false;
  const exited = new Promise<Exit>((resolve) => child.on("close", (code, signal) => ((done = true), resolve({ code, signal, stdout, stderr }))));
  return { done: () => done, kill: () => void child.kill("SIGKILL"), exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const uniform = (low: number, high: number) => low + Math.random() * (high - low);

/** Resolves once `seen()` is true or the process is gone; polls every millisecond. */
async function until(seen: () => boolean, call: { done(): boolean }): Promise<void> {
  while (!seen() && !call.done()) await sleep(1);
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** What a kill left behind, to show the kills were spread over the lock, the write and the rename. */
interface Leftovers {
  lock: boolean;
  temp: boolean;
  entry: boolean;
}

interface LaneReport {
  kills: number;
  /** Lock waits of the call after each kill, in ms of the test clock. */
  waits: number[];
  finishedFirst: number;
  leftovers: Leftovers[];
}

/** Every entry the cache holds parses, and nothing the next call would set aside. */
async function expectCacheReadsBack(cacheDir: string): Promise<Leftovers> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  for (const name of names.filter((n) => /^(token-.+|msal-.+|auth-[0-9a-f]+|auth)\.json$/.test(n))) {
    const text = await readFile(join(cacheDir, name), "utf8");
    expect(() => JSON.parse(text), `${name} after a kill: ${text.slice(0, 200)}`).not.toThrow();
  }
  return {
    lock: names.some((n) => n.endsWith(".lock")),
    temp: names.some((n) => n.endsWith(".tmp")),
    entry: names.some((n) => /^token-.+\.json$/.test(n)),
  };
}

async function getTokenLane(lane: number): Promise<LaneReport> {
  const ropc = lane % 2 === 1;
  // Tokens with less than the 5 minutes kubelogin wants left: every call misses and writes again.
  const entra: FakeEntra = await startFakeEntra({ pki, tenants: [TENANT], apps: [APP], tokenLifetimeSeconds: 120 });
  entra.users.addPublicClient(PUBLIC_CLIENT);
  entra.users.addUser(USER);
  entra.users.tokenLifetimeSeconds = 120;
  const cacheDir = join(root, `lane-${lane}`, "cache");
  const args = [
    "get-token", "-l", ropc ? "ropc" : "spn", "--server-id", SERVER_ID, "--client-id", ropc ? PUBLIC_CLIENT : APP.clientId, "--tenant-id", TENANT,
    "--authority-host", entra.url, "--cache-dir", cacheDir, ...(ropc ? ["--username", USER.username] : []),
  ];
  const env: Record<string, string> = ropc ? { AZURE_PASSWORD: USER.password } : { AZURE_CLIENT_SECRET: APP.secret };
  const report: LaneReport = { kills: 0, waits: [], finishedFirst: 0, leftovers: [] };
  try {
    // Calibration: how long until the token request, and from there until the process is gone.
    const toRequest: number[] = [];
    const afterRequest: number[] = [];
    for (let i = 0; i < 2; i++) {
      const before = entra.tokenRequests().length;
      const started = Date.now();
      const call = spawnKubelogin(args, env);
      await until(() => entra.tokenRequests().length > before, call);
      const requested = Date.now();
      const exit = await call.exited;
      expect(exit.code, exit.stderr).toBe(0);
      toRequest.push(requested - started);
      afterRequest.push(Date.now() - requested);
    }
    const requestAt = Math.min(...toRequest);
    // Adapted as it goes: a process that finishes first shrinks the window, a kill widens it, so
    // the kills cluster around the write, the rename and the unlock whatever the machine's load.
    let tail = Math.max(Math.min(...afterRequest), 5);

    for (let i = 0; report.kills < KILLS_PER_LANE && i < 3 * KILLS_PER_LANE; i++) {
      const before = entra.tokenRequests().length;
      const call = spawnKubelogin(args, env);
      if (Math.random() < 0.25) {
        await sleep(uniform(0.5, 1) * requestAt);
      } else {
        await until(() => entra.tokenRequests().length > before, call);
        await sleep(uniform(0, 1.1) * tail);
      }
      call.kill();
      const exit = await call.exited;
      if (exit.signal === "SIGKILL") {
        report.kills++;
        tail *= 1.1;
      } else {
        report.finishedFirst++;
        tail *= 0.7;
      }
      report.leftovers.push(await expectCacheReadsBack(cacheDir));

      // The next call, in-process with the real process table, on a clock that moves only when
      // it sleeps: how long it waited for the lock is exact, whatever the machine's load.
      const clock = fixedClock(Date.now());
      const rt = testRuntime({ env, isProcessAlive: isAlive, clock });
      const started = clock.now();
      const code = await run(args, rt);
      expect(code, rt.stderr.text()).toBe(0);
      const waited = clock.now() - started;
      // A dead holder's lock is broken at once; one killed before it wrote its holder is judged by
      // its age (5 s); never waited out as if its holder were alive and hung (STALE_MS).
      expect(waited, `the next call waited ${waited} ms for the lock (${JSON.stringify(report.leftovers.at(-1))})`).toBeLessThan(STALE_MS);
      report.waits.push(waited);
      expect(rt.stderr.text()).toBe("");
      expect(JSON.parse(rt.stdout.text())).toMatchObject({ kind: "ExecCredential", status: { token: entra.issuedTokens.at(-1) } });
      const names = await readdir(cacheDir);
      expect(names.filter((n) => n.endsWith(".lock") || n.includes(".corrupt-"))).toEqual([]);
    }

    // And the binary itself, after all that.
    const last = await spawnKubelogin(args, env).exited;
    expect(last.code, last.stderr).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ kind: "ExecCredential" });
    return report;
  } finally {
    await entra.close();
  }
}

async function convertLane(lane: number): Promise<LaneReport & { old: number; new: number }> {
  const dir = join(root, `convert-${lane}`);
  await mkdir(dir, { recursive: true });
  const kubeconfig = join(dir, "config");
  const pristine = join(dir, "config.orig");
  // Big enough that the write itself takes a while.
  const oldText = manyProviderUsersYaml(1_000);
  await writeFile(pristine, oldText);
  const args = ["convert-kubeconfig", "-l", "azurecli", "--kubeconfig", kubeconfig];

  const lock = `${kubeconfig}.lock`;
  // Calibration: until kubectl's lock appears (the write begins), and from there until exit.
  await copyFile(pristine, kubeconfig);
  const started = Date.now();
  const first = spawnKubelogin(args, {});
  await until(() => existsSync(lock), first);
  const locked = Date.now();
  const firstExit = await first.exited;
  expect(firstExit.code, firstExit.stderr).toBe(0);
  const lockAt = locked - started;
  let tail = Math.max(Date.now() - locked, 5);
  const newText = await readFile(kubeconfig, "utf8");
  expect(newText).not.toBe(oldText);

  const report = { kills: 0, waits: [], finishedFirst: 0, leftovers: [] as Leftovers[], old: 0, new: 0 };
  for (let i = 0; report.kills < CONVERT_KILLS_PER_LANE && i < 3 * CONVERT_KILLS_PER_LANE; i++) {
    await copyFile(pristine, kubeconfig);
    const call = spawnKubelogin(args, {});
    if (Math.random() < 0.2) {
      await sleep(uniform(0.5, 1) * lockAt);
    } else {
      await until(() => existsSync(lock), call);
      await sleep(uniform(0, 1.1) * tail);
    }
    call.kill();
    const exit = await call.exited;
    if (exit.signal === "SIGKILL") report.kills++;
    else report.finishedFirst++;
    const text = await readFile(kubeconfig, "utf8");
    if (text === oldText) report.old++;
    else if (text === newText) report.new++;
    else expect.fail(`kill ${i} left a kubeconfig that is neither the old nor the new one (${text.length} bytes)`);
    const names = await readdir(dir);
    report.leftovers.push({ lock: names.includes("config.lock"), temp: names.some((n) => n !== "config" && n !== "config.orig" && n !== "config.lock"), entry: true });
    // kubectl's own lock: a killed writer leaves it, and kubectl and kubelogin then refuse to
    // write (the error names the file to remove); that is client-go's rule, so the test removes it.
    for (const name of names) if (name !== "config" && name !== "config.orig") await rm(join(dir, name), { force: true });
  }
  return report;
}

test(
  `SIGKILL at random moments: ${GET_TOKEN_LANES * KILLS_PER_LANE} get-token and ${CONVERT_LANES * CONVERT_KILLS_PER_LANE} convert-kubeconfig runs`,
  { timeout: 1_200_000 },
  async () => {
    const [tokens, converts] = await Promise.all([
      Promise.all(Array.from({ length: GET_TOKEN_LANES }, (_, lane) => getTokenLane(lane))),
      Promise.all(Array.from({ length: CONVERT_LANES }, (_, lane) => convertLane(lane))),
    ]);
    const leftovers = tokens.flatMap((t) => t.leftovers);
    const killed = tokens.reduce((n, t) => n + t.kills, 0);
    const summary = {
      getToken: {
        killed,
        finishedFirst: tokens.reduce((n, t) => n + t.finishedFirst, 0),
        lockLeft: leftovers.filter((l) => l.lock).length,
        tempLeft: leftovers.filter((l) => l.temp).length,
        waitedForUnreadableLock: tokens.flatMap((t) => t.waits).filter((ms) => ms >= 1_000).length,
        longestWaitMs: Math.max(...tokens.flatMap((t) => t.waits)),
      },
      convert: { killed: converts.reduce((n, c) => n + c.kills, 0), old: converts.reduce((n, c) => n + c.old, 0), new: converts.reduce((n, c) => n + c.new, 0), lockLeft: converts.flatMap((c) => c.leftovers).filter((l) => l.lock).length },
    };
    // The kills really fell inside the locked section, not only before or after it.
    expect(summary.getToken.lockLeft, JSON.stringify(summary)).toBeGreaterThan(0);
    expect(killed, JSON.stringify(summary)).toBe(GET_TOKEN_LANES * KILLS_PER_LANE);
    expect(summary.convert.killed, JSON.stringify(summary)).toBe(CONVERT_LANES * CONVERT_KILLS_PER_LANE);
    if (process.env.KUBELOGIN_TEST_REPORT) process.stderr.write(`crash-safety: ${JSON.stringify(summary)}\n`);
  },
);
