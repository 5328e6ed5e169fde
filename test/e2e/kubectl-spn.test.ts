// Real kubectl (versioned binaries, so the plugin runs exactly once per command) → our built
// kubelogin → fake Entra ID over HTTPS → fake API server that verifies the JWT.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { KUBECTL_VERSIONS } from "../support/kubectl.js";
import { loadTestPki } from "../support/pki.js";
import { SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
});
afterAll(async () => {
  await stack.close();
});

let cacheCounter = 0;
let cacheDir: string;
beforeEach(() => {
  cacheDir = join(stack.home, `cache-${++cacheCounter}`);
});

function spnArgs(clientId: string, extra: readonly string[] = []): string[] {
  return [
    "get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", clientId, "--tenant-id", stack.tenantId,
    "--environment", "AzurePublicCloud", "--authority-host", stack.entra.url, "--cache-dir", cacheDir, ...extra,
  ];
}

describe.each(KUBECTL_VERSIONS)("kubectl %s lists nodes through kubelogin -l spn", (version) => {
  test.each([
    ["client secret in AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", () => ({ clientId: stack.secretApp.clientId, args: [], env: { AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: stack.secretApp.secret } })],
    ["client secret in AZURE_CLIENT_SECRET", () => ({ clientId: stack.secretApp.clientId, args: [], env: { AZURE_CLIENT_SECRET: stack.secretApp.secret } })],
    ["PEM certificate, PKCS#8 'PRIVATE KEY'", () => ({ clientId: stack.certApp.clientId, args: ["--client-certificate", stack.certApp.files.pkcs8Pem], env: {} })],
    ["PEM certificate, PKCS#1 'RSA PRIVATE KEY'", () => ({ clientId: stack.certApp.clientId, args: ["--client-certificate", stack.certApp.files.pkcs1Pem], env: {} })],
    ["PFX certificate with password", () => ({ clientId: stack.certApp.clientId, args: ["--client-certificate", stack.certApp.files.pfx], env: { AZURE_CLIENT_CERTIFICATE_PASSWORD: stack.certApp.files.pfxPassword } })],
  ])("%s; the second kubectl call is served from the cache", async (_name, setup) => {
    const { clientId, args, env } = setup() as { clientId: string; args: string[]; env: Record<string, string> };
    const kubeconfig = await stack.writeKubeconfig(`spn-${version}-${cacheCounter}`, {
      args: spnArgs(clientId, args),
      env: Object.entries(env).map(([name, value]) => ({ name, value })),
    });
    const before = stack.entra.tokenRequests().length;

    const first = await stack.kubectl(version, ["--kubeconfig", kubeconfig, "get", "nodes"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
    expect(stack.entra.tokenRequests().length - before).toBe(1);

    const second = await stack.kubectl(version, ["--kubeconfig", kubeconfig, "get", "nodes"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("node-1");
    expect(stack.entra.tokenRequests().length - before).toBe(1);
    expect(stack.api.acceptedTokens.at(-1)).toBe(stack.entra.issuedTokens.at(-1));
  });
});

test("exec apiVersion v1 with interactiveMode Never works, and auth whoami shows the service principal", async () => {
  const kubeconfig = await stack.writeKubeconfig("v1", {
    apiVersion: "client.authentication.k8s.io/v1",
    interactiveMode: "Never",
    args: spnArgs(stack.secretApp.clientId),
    env: [{ name: "AZURE_CLIENT_SECRET", value: stack.secretApp.secret }],
  });
  const nodes = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"]);
  expect(nodes.code).toBe(0);
  expect(nodes.stdout).toContain("node-1");
  const whoami = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "auth", "whoami"]);
  expect(whoami.code).toBe(0);
  expect(whoami.stdout).toMatch(/Username\s+[0-9a-f-]{36}/);
  expect(whoami.stdout).toContain(SERVER_ID);
});

test("env-only configuration, as a CI pipeline sets it: AAD_LOGIN_METHOD, AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET", async () => {
  // The kubeconfig still says devicecode with another app: environment variables beat flags.
  const kubeconfig = await stack.writeKubeconfig("env-only", {
    args: ["get-token", "--login", "devicecode", "--server-id", SERVER_ID, "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", "other-tenant", "--authority-host", stack.entra.url, "--cache-dir", cacheDir],
  });
  const result = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"], {
    env: {
      AAD_LOGIN_METHOD: "spn",
      AZURE_CLIENT_ID: stack.secretApp.clientId,
      AZURE_TENANT_ID: stack.tenantId,
      AZURE_CLIENT_SECRET: stack.secretApp.secret,
    },
  });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toContain("node-1");
});

test("cache files are 0600 in a 0700 directory, and the secret is in neither the cache nor stderr at -v 10", async () => {
  const result = await stack.kubelogin([...spnArgs(stack.secretApp.clientId), "-v", "10"], { env: { AZURE_CLIENT_SECRET: stack.secretApp.secret } });
  expect(result.code).toBe(0);
  expect(result.stderr).toContain("client-secret=***");
  expect(result.stderr).not.toContain(stack.secretApp.secret);
  expect(result.stderr).not.toContain(stack.entra.issuedTokens.at(-1)!);

  expect((await stat(cacheDir)).mode & 0o777).toBe(0o700);
  const files = await readdir(cacheDir);
  expect(files.some((f) => f.startsWith("token-"))).toBe(true);
  // Client credentials keep no MSAL blob: it would only be a second plaintext copy of the token.
  expect(files.some((f) => f.startsWith("msal-"))).toBe(false);
  for (const file of files) {
    const info = await stat(join(cacheDir, file));
    expect(info.mode & 0o777, file).toBe(0o600);
  }
  const { readFile } = await import("node:fs/promises");
  for (const file of files) expect(await readFile(join(cacheDir, file), "utf8")).not.toContain(stack.secretApp.secret);
});

test("8 parallel get-token calls for one identity make one identity-provider request", async () => {
  const before = stack.entra.tokenRequests().length;
  const runs = await Promise.all(
    Array.from({ length: 8 }, () => stack.kubelogin(spnArgs(stack.secretApp.clientId), { env: { AZURE_CLIENT_SECRET: stack.secretApp.secret } })),
  );
  for (const run of runs) expect(run.code, run.stderr).toBe(0);
  const tokens = new Set(runs.map((run) => (JSON.parse(run.stdout) as { status: { token: string } }).status.token));
  expect(tokens.size).toBe(1);
  expect(stack.entra.tokenRequests().length - before).toBe(1);
});
