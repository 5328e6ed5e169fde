// Decision 2: a cached token is served without loading MSAL, @azure/identity, yargs, node-forge or
// js-yaml. A module-resolve hook records every module the real binary loads.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

const RECORDER = fileURLToPath(new URL("../support/record-loads.mjs", import.meta.url));
const HEAVY = ["@azure/msal-node", "@azure/identity", "yargs", "node-forge", "js-yaml", "undici"];

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
});
afterAll(async () => {
  await stack.close();
});

async function getTokenRecordingLoads(cacheDir: string): Promise<{ code: number; loaded: string[]; stdout: string }> {
  const log = join(await mkdtemp(join(tmpdir(), "kubelogin-loads-")), "loads.txt");
  const args = [
    "--import", RECORDER, KUBELOGIN_BIN, "get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", stack.certApp.clientId,
    "--tenant-id", stack.tenantId, "--authority-host", stack.entra.url, "--cache-dir", cacheDir,
    "--client-certificate", stack.certApp.files.pfx, "--client-certificate-password", stack.certApp.files.pfxPassword,
  ];
  // A proxy is configured (undici must still stay unloaded on a hit); fake Entra on loopback bypasses it.
  const result = await runProcess(process.execPath, args, stack.env({ KUBELOGIN_LOAD_LOG: log, HTTPS_PROXY: "http://127.0.0.1:9" }));
  const loaded = (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return { code: result.code, loaded, stdout: result.stdout };
}

test("a cache miss loads MSAL; a cache hit loads none of the heavy packages and makes no request", async () => {
  const cacheDir = join(stack.home, "fast-path-cache");
  const miss = await getTokenRecordingLoads(cacheDir);
  expect(miss.code).toBe(0);
  expect(miss.loaded.some((url) => url.includes("/@azure/msal-node/"))).toBe(true);

  const requests = stack.entra.requests.length;
  const hit = await getTokenRecordingLoads(cacheDir);
  expect(hit.code).toBe(0);
  expect(hit.stdout).toBe(miss.stdout);
  expect(stack.entra.requests.length).toBe(requests);
  const heavy = hit.loaded.filter((url) => HEAVY.some((name) => url.includes(`/node_modules/${name}/`)));
  expect(heavy).toEqual([]);
  expect(hit.loaded.some((url) => url.endsWith("/dist/cli/get-token.js"))).toBe(true);
});
