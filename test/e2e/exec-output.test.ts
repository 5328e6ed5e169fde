// The real binary with a stdout it cannot write: upstream's error on stderr, exit 1 (compat spec §2.2).
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { KUBELOGIN_BIN, SERVER_ID } from "../support/local-stack.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = { clientId: "0c7e0a3e-5b1f-4d55-8d8c-2f2d3d1f5c11", secret: "exec-output-Secret.value" };
let entra: FakeEntra;

beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [APP] });
});
afterAll(async () => {
  await entra.close();
});

/** Runs get-token through sh so stdout can be redirected the way a user or a broken pipeline would. */
async function getTokenWithStdout(redirect: string): Promise<{ code: number; stderr: string }> {
  const cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-exec-output-"));
  const args = [KUBELOGIN_BIN, "get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", APP.clientId, "--tenant-id", TENANT,
    "--authority-host", entra.url, "--cache-dir", cacheDir];
  return new Promise((resolve) => {
    execFile("sh", ["-c", `exec "$0" "$@" ${redirect}`, process.execPath, ...args], { env: { ...process.env, AZURE_CLIENT_SECRET: APP.secret } }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stderr });
    });
  });
}

test.each([
  ["full (/dev/full)", ">/dev/full", "write /dev/stdout: no space left on device"],
  ["closed", ">&-", "write /dev/stdout: bad file descriptor"],
])("a %s stdout is upstream's error and exit 1", async (_, redirect, reason) => {
  const result = await getTokenWithStdout(redirect);
  expect(result.code).toBe(1);
  expect(result.stderr.split("\n")[0]).toBe(`Error: could not write the ExecCredential: ${reason}`);
});
