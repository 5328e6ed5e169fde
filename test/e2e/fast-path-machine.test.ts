// Decision 2 for the machine modes: an msi cache hit is served by the entry's fast path alone (it
// loads neither the full CLI's bundle nor a heavy package) and makes no request.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { startFakeImds, type FakeImds } from "../fakes/fake-imds.js";
import { KUBELOGIN_BIN, runProcess, SERVER_ID } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

const RECORDER = fileURLToPath(new URL("../support/record-loads.mjs", import.meta.url));
const HEAVY = ["@azure/msal-node", "@azure/identity", "yargs", "node-forge", "js-yaml"];
/** The full CLI's bundle (scripts/build.mjs): a hit must not load it. */
const FULL_CLI = new URL("cold/full-cli.js", pathToFileURL(KUBELOGIN_BIN)).href;

let entra: FakeEntra;
let imds: FakeImds;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: ["t"], apps: [] });
  imds = await startFakeImds({ systemAssigned: { clientId: "c" }, issue: (id, resource) => entra.issueManagedIdentityToken(id, resource) });
});
afterAll(async () => {
  await Promise.all([entra.close(), imds.close()]);
});

async function msiGetToken(cacheDir: string): Promise<{ code: number; loaded: string[]; heavy: string[]; stdout: string }> {
  const log = join(await mkdtemp(join(tmpdir(), "kubelogin-loads-")), "loads.txt");
  const args = ["--import", RECORDER, KUBELOGIN_BIN, "get-token", "-l", "msi", "--server-id", SERVER_ID, "--cache-dir", cacheDir];
  const result = await runProcess(process.execPath, args, { PATH: process.env.PATH ?? "/usr/bin:/bin", AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost, KUBELOGIN_LOAD_LOG: log });
  const loaded = (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return { code: result.code, loaded, heavy: loaded.filter((url) => HEAVY.some((name) => url.includes(`/node_modules/${name}/`))), stdout: result.stdout };
}

test("msi: the miss runs the full CLI; the hit loads nothing heavy and asks IMDS nothing", async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-msi-fast-"));
  const miss = await msiGetToken(cacheDir);
  expect(miss.code).toBe(0);
  expect(miss.loaded).toContain(FULL_CLI);

  const requests = imds.requests.length;
  const hit = await msiGetToken(cacheDir);
  expect(hit.code).toBe(0);
  expect(hit.stdout).toBe(miss.stdout);
  expect(imds.requests.length).toBe(requests);
  expect(hit.heavy).toEqual([]);
  expect(hit.loaded).not.toContain(FULL_CLI);
});
