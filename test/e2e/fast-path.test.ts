// Decision 2: a cached token is served without loading MSAL, @azure/identity, yargs, node-forge or
// js-yaml. The built entry is a bundle (scripts/build.mjs) that holds the fast path and no package;
// the full CLI and its packages are a second bundle. A recorder sees every module the real binary
// loads: a hit loads the entry and nothing else of ours (nor any heavy package), a miss loads the
// full CLI. The fast path answers from the index the full CLI wrote (src/fast-path/hit-index.ts),
// so anything the answer depends on that changes sends the call back to the full CLI.
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { GO_BUNDLE_DIRS, GO_BUNDLE_FILES } from "../../src/system-ca.js";
import { loadTestPki } from "../support/pki.js";

const RECORDER = fileURLToPath(new URL("../support/record-loads.mjs", import.meta.url));
const HEAVY = ["@azure/msal-node", "@azure/identity", "yargs", "node-forge", "js-yaml", "undici"];
const ENTRY = pathToFileURL(KUBELOGIN_BIN).href;
const FULL_CLI = new URL("cold/full-cli.js", ENTRY).href;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
});
afterAll(async () => {
  await stack.close();
});

async function getTokenRecordingLoads(
  cacheDir: string,
  extra: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; loaded: string[]; read: string[]; stdout: string; stderr: string }> {
  const logDir = await mkdtemp(join(tmpdir(), "kubelogin-loads-"));
  const log = join(logDir, "loads.txt");
  const readLog = join(logDir, "reads.txt");
  const args = [
    "--import", RECORDER, KUBELOGIN_BIN, "get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", stack.certApp.clientId,
    "--tenant-id", stack.tenantId, "--authority-host", stack.entra.url, "--cache-dir", cacheDir,
    "--client-certificate", stack.certApp.files.pfx, "--client-certificate-password", stack.certApp.files.pfxPassword, ...extra,
  ];
  // A proxy is configured (undici must still stay unloaded on a hit); fake Entra on loopback bypasses it.
  const result = await runProcess(process.execPath, args, stack.env({ KUBELOGIN_LOAD_LOG: log, KUBELOGIN_READ_LOG: readLog, HTTPS_PROXY: "http://127.0.0.1:9", ...env }));
  const lines = async (file: string): Promise<string[]> => (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return { code: result.code, loaded: await lines(log), read: await lines(readLog), stdout: result.stdout, stderr: result.stderr };
}

test("a cache miss runs the full CLI; a cache hit loads neither it nor a heavy package and makes no request", async () => {
  const cacheDir = join(stack.home, "fast-path-cache");
  const miss = await getTokenRecordingLoads(cacheDir);
  expect(miss.code).toBe(0);
  expect(miss.loaded).toContain(FULL_CLI);

  const requests = stack.entra.requests.length;
  const hit = await getTokenRecordingLoads(cacheDir);
  expect(hit.code).toBe(0);
  expect(hit.stdout).toBe(miss.stdout);
  expect(stack.entra.requests.length).toBe(requests);
  const heavy = hit.loaded.filter((url) => HEAVY.some((name) => url.includes(`/node_modules/${name}/`)));
  expect(heavy).toEqual([]);
  // The recorder sees the entry twice (its ES module hook and the CommonJS loader), and nothing else of ours.
  expect(new Set(hit.loaded.filter((url) => url.startsWith(new URL(".", ENTRY).href)))).toEqual(new Set([ENTRY]));
});

test("a cache hit reads no certificate file: the system's CAs are read only when a request is made", async () => {
  const cacheDir = join(stack.home, "fast-path-ca-cache");
  const caDir = join(stack.home, "fast-path-ca-dir");
  await mkdir(caDir, { recursive: true });
  await writeFile(join(caDir, "company-ca.pem"), stack.pki.caCertPem);
  const trust = { SSL_CERT_FILE: stack.pki.caCertPath, SSL_CERT_DIR: caDir };
  const certificateSources = [trust.SSL_CERT_FILE, caDir, stack.pki.caCertPath, ...GO_BUNDLE_FILES, ...GO_BUNDLE_DIRS];
  const certificateReads = (reads: readonly string[]): string[] =>
    reads.filter((line) => certificateSources.some((source) => line.slice(line.indexOf(" ") + 1).startsWith(source)));

  const miss = await getTokenRecordingLoads(cacheDir, [], trust);
  expect(miss.code, miss.stderr).toBe(0);
  // The recorder sees them when a request is made.
  expect(certificateReads(miss.read)).toEqual(expect.arrayContaining([expect.stringContaining(` ${trust.SSL_CERT_FILE}`), expect.stringContaining(` ${caDir}`)]));

  const hit = await getTokenRecordingLoads(cacheDir, [], trust);
  expect(hit.code).toBe(0);
  expect(hit.loaded).not.toContain(FULL_CLI);
  expect(hit.stdout).toBe(miss.stdout);
  expect(hit.read.length).toBeGreaterThan(0);
  expect(certificateReads(hit.read)).toEqual([]);
});

test("the index serves the same call again, and sends a changed one to the full CLI", async () => {
  const cacheDir = join(stack.home, "fast-path-index-cache");
  const first = await getTokenRecordingLoads(cacheDir);
  expect(first.loaded).toContain(FULL_CLI);
  const requests = stack.entra.tokenRequests().length;
  // A variable the run never read changes nothing.
  const unrelated = await getTokenRecordingLoads(cacheDir, [], { SOME_UNRELATED_VARIABLE: "x" });
  expect(unrelated.loaded).not.toContain(FULL_CLI);
  expect(unrelated.stdout).toBe(first.stdout);
  // One it read (here it overrides --client-id) does: the full CLI answers, from the cache it finds.
  const overridden = await getTokenRecordingLoads(cacheDir, [], { AZURE_CLIENT_ID: stack.certApp.clientId });
  expect(overridden.loaded).toContain(FULL_CLI);
  expect(overridden.stdout).toBe(first.stdout);
  // So does another command line: an argument more.
  const longer = await getTokenRecordingLoads(cacheDir, ["--timeout", "60s"]);
  expect(longer.loaded).toContain(FULL_CLI);
  // And a certificate replaced by another (same path): its key changes, so Entra is asked.
  const pfx = stack.certApp.files.pfx;
  const original = await readFile(pfx);
  await writeFile(pfx, original);
  const replaced = await getTokenRecordingLoads(cacheDir);
  expect(replaced.loaded).toContain(FULL_CLI);
  expect(stack.entra.tokenRequests().length).toBe(requests + 1);
  const again = await getTokenRecordingLoads(cacheDir);
  expect(again.loaded).not.toContain(FULL_CLI);
  expect(stack.entra.tokenRequests().length).toBe(requests + 1);
});

test("a cached token with something to say on stderr (-v 1) is served by the full CLI, the same bytes on stdout", async () => {
  const cacheDir = join(stack.home, "fast-path-verbose-cache");
  const miss = await getTokenRecordingLoads(cacheDir);
  expect(miss.code).toBe(0);
  const requests = stack.entra.requests.length;
  const verbose = await getTokenRecordingLoads(cacheDir, ["-v", "1"]);
  expect(verbose.code).toBe(0);
  expect(verbose.stdout).toBe(miss.stdout);
  expect(verbose.stderr).toContain("options: ");
  expect(verbose.loaded).toContain(FULL_CLI);
  expect(stack.entra.requests.length).toBe(requests);
});

test("the entry's and the fast path's bundles hold no package: the heavy ones are only in the full CLI's bundle", async () => {
  const meta = JSON.parse(await readFile(new URL("fast-path.meta.json", ENTRY), "utf8")) as { inputs: Record<string, unknown> };
  const inputs = Object.keys(meta.inputs);
  expect(inputs).toContain("src/fast-path/hit-index.ts");
  // Nothing of option parsing, login or the cache's stores: those are the full CLI's.
  expect(inputs.filter((input) => /src\/(options\/table|login|cache\/stores|cli)/.test(input))).toEqual([]);
  expect(inputs.filter((input) => input.includes("node_modules"))).toEqual([]);
  const full = await readFile(new URL(FULL_CLI), "utf8");
  expect(full).toContain("PublicClientApplication");
});
