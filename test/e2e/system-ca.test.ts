// The built kubelogin trusts a CA the way Go's kubelogin does when only the system knows it: named
// by SSL_CERT_FILE, or in a directory named by SSL_CERT_DIR, with NODE_EXTRA_CA_CERTS unset (the
// suite sets it for everything else). Fake Entra's certificate is issued by the test CA, so each
// mode below succeeds only if that CA is trusted from there.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { mintFederatedToken } from "../fakes/federated-token.js";
import { KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack, type LocalStack, type ProcessResult } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

const PUBLIC_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ALICE = { username: "alice@contoso.example", password: "Corr3ct-Horse!" };

let stack: LocalStack;
let caDir: string;
let federatedTokenFile: string;
beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  stack.entra.users.addPublicClient(PUBLIC_CLIENT);
  stack.entra.users.addUser(ALICE);
  stack.entra.users.deviceCode = { user: ALICE.username, slowDownPolls: 0, pendingPolls: 0, outcome: "approve", interval: 1 };
  caDir = join(stack.home, "company-cas");
  await mkdir(caDir);
  await writeFile(join(caDir, "inspecting-proxy.pem"), stack.pki.caCertPem);
  federatedTokenFile = join(stack.home, "azure-identity-token");
  await writeFile(federatedTokenFile, mintFederatedToken({ issuer: stack.workloadApp.issuer, subject: stack.workloadApp.subject }));
});
afterAll(async () => {
  await stack.close();
});

const TRUST = {
  SSL_CERT_FILE: () => ({ SSL_CERT_FILE: stack.pki.caCertPath }),
  SSL_CERT_DIR: () => ({ SSL_CERT_DIR: `${join(stack.home, "no-such-dir")}:${caDir}` }),
} as const;

const MODES = {
  spn: () => ({ args: ["-l", "spn", "--client-id", stack.secretApp.clientId], env: { AZURE_CLIENT_SECRET: stack.secretApp.secret } }),
  devicecode: () => ({ args: ["-l", "devicecode", "--client-id", PUBLIC_CLIENT], env: {} }),
  workloadidentity: () => ({
    args: ["-l", "workloadidentity"],
    env: { AZURE_CLIENT_ID: stack.workloadApp.clientId, AZURE_TENANT_ID: stack.tenantId, AZURE_FEDERATED_TOKEN_FILE: federatedTokenFile, AZURE_AUTHORITY_HOST: stack.entra.url },
  }),
} as const;

async function getToken(mode: keyof typeof MODES, trust: Record<string, string>): Promise<ProcessResult> {
  const { args, env } = MODES[mode]();
  const cacheDir = await mkdtemp(join(stack.home, `cache-${mode}-`));
  const processEnv = stack.env({ ...env, ...trust });
  delete processEnv.NODE_EXTRA_CA_CERTS;
  return runProcess(
    process.execPath,
    [KUBELOGIN_BIN, "get-token", "--server-id", SERVER_ID, "--tenant-id", stack.tenantId, "--authority-host", stack.entra.url, "--cache-dir", cacheDir, ...args],
    processEnv,
  );
}

test.each(Object.keys(TRUST).flatMap((trust) => Object.keys(MODES).map((mode) => [mode, trust] as [keyof typeof MODES, keyof typeof TRUST])))(
  "%s succeeds when only %s names the CA",
  async (mode, trust) => {
    const tokens = stack.entra.issuedTokens.length;
    const result = await getToken(mode, TRUST[trust]());
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).status.token).toBe(stack.entra.issuedTokens.at(-1));
    expect(stack.entra.issuedTokens.length).toBe(tokens + 1);
  },
);

test("with the CA named nowhere, the request is refused and the hint names SSL_CERT_FILE", async () => {
  const result = await getToken("spn", {});
  expect(result.code).toBe(1);
  const [error, hint] = result.stderr.split("\n");
  expect(error).toMatch(/^Error: .*could not reach the identity provider at https:\/\/127\.0\.0\.1:\d+: SELF_SIGNED_CERT_IN_CHAIN$/);
  expect(hint).toMatch(/^hint: 127\.0\.0\.1's TLS certificate is not trusted; .*SSL_CERT_FILE/);
});
