// The single executable (issue 13 item 1): `node scripts/package.mjs` (npm run package after the
// build) makes dist/kubelogin, which real kubectl runs from a PATH with no node on it: spn, then
// the second call from the cache, nothing on stderr either time.
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { KUBECTL_VERSIONS } from "../support/kubectl.js";
import { loadTestPki } from "../support/pki.js";
import { runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXE = join(ROOT, "dist/kubelogin");

let stack: LocalStack;
let binDir: string;

beforeAll(async () => {
  const packaged = await runProcess(process.execPath, [join(ROOT, "scripts/package.mjs")], { PATH: process.env.PATH ?? "" }, ROOT);
  expect(packaged.code, packaged.stderr).toBe(0);
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  // The only thing on the plugin's PATH.
  binDir = await mkdtemp(join(tmpdir(), "kubelogin-exe-bin-"));
  await symlink(EXE, join(binDir, "kubelogin"));
}, 180_000);
afterAll(async () => {
  await stack?.close();
  if (binDir) await rm(binDir, { recursive: true, force: true });
});

test("--version runs with an empty environment", async () => {
  const result = await runProcess(EXE, ["--version"], {});
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^kubelogin version \ngit hash: v\d+\.\d+\.\d+\/[0-9a-f]{40}(-dirty)?\nRuntime version: node v[\d.]+\nBuild time: \d{4}-/);
});

test.each(KUBECTL_VERSIONS)("kubectl %s lists nodes through dist/kubelogin with no node on PATH (spn; second call cached)", async (version) => {
  const kubeconfig = await stack.writeKubeconfig(`exe-${version}`, {
    args: [
      "get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", stack.secretApp.clientId, "--tenant-id", stack.tenantId,
      "--environment", "AzurePublicCloud", "--authority-host", stack.entra.url, "--cache-dir", join(stack.home, `exe-cache-${version}`),
    ],
    env: [{ name: "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", value: stack.secretApp.secret }],
  });
  const env = { PATH: binDir };
  const before = stack.entra.tokenRequests().length;
  for (const call of ["first", "second"]) {
    const result = await stack.kubectl(version, ["--kubeconfig", kubeconfig, "get", "nodes"], { env });
    expect(result.stderr, call).toBe("");
    expect(result.code, call).toBe(0);
    expect(result.stdout, call).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
  }
  expect(stack.entra.tokenRequests().length - before).toBe(1);
  expect(stack.api.acceptedTokens.at(-1)).toBe(stack.entra.issuedTokens.at(-1));
});
