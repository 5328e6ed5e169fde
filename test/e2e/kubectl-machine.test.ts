// Real kubectl → our built kubelogin in the machine and CI modes (msi, workloadidentity in both
// variants, azurepipelines) → the fake identity endpoints and fake Entra → the fake API server,
// which accepts only tokens fake Entra signed. The second kubectl call is served from the cache.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFakeApiServer, type FakeApiServer } from "../fakes/fake-apiserver.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { GITHUB_ISSUER, startFakeGitHubOidc, type FakeGitHubOidc } from "../fakes/fake-github-oidc.js";
import { startFakeImds, type FakeImds } from "../fakes/fake-imds.js";
import { PIPELINES_ISSUER, startFakePipelinesOidc, type FakePipelinesOidc } from "../fakes/fake-pipelines-oidc.js";
import { mintFederatedToken } from "../fakes/federated-token.js";
import { KUBELOGIN_BIN, runProcess, SERVER_ID } from "../support/local-stack.js";
import { kubectlBinary } from "../support/kubectl.js";
import { loadTestPki, type TestPki } from "../support/pki.js";

const TENANT = "00000000-0000-0000-0000-0000000000bb";
const MI = { clientId: "9d9d9d9d-0000-4000-8000-000000000001" };
const AKS_ISSUER = "https://oidc.aks.example/tenant/cluster/";
const POD_SUBJECT = "system:serviceaccount:ci:deployer";
const POD_APP = "9d9d9d9d-0000-4000-8000-000000000002";
const GH_APP = "9d9d9d9d-0000-4000-8000-000000000003";
const PIPELINES_APP = "9d9d9d9d-0000-4000-8000-000000000004";

let pki: TestPki;
let root: string;
let entra: FakeEntra;
let api: FakeApiServer;
let imds: FakeImds;
let github: FakeGitHubOidc;
let pipelines: FakePipelinesOidc;
let tokenFile: string;

beforeAll(async () => {
  pki = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
  root = await mkdtemp(join(tmpdir(), "kubelogin-machine-e2e-"));
  await mkdir(join(root, "bin"));
  await mkdir(join(root, "home"));
  await symlink(KUBELOGIN_BIN, join(root, "bin", "kubelogin"));
  github = await startFakeGitHubOidc();
  pipelines = await startFakePipelinesOidc();
  entra = await startFakeEntra({
    pki,
    tenants: [TENANT],
    apps: [
      { clientId: POD_APP, federated: [{ issuer: AKS_ISSUER, subject: POD_SUBJECT }] },
      { clientId: GH_APP, federated: [{ issuer: GITHUB_ISSUER, subject: github.subject }] },
      { clientId: PIPELINES_APP, federated: [{ issuer: PIPELINES_ISSUER, subject: pipelines.subject }] },
    ],
  });
  imds = await startFakeImds({ systemAssigned: MI, issue: (id, resource) => entra.issueManagedIdentityToken(id, resource) });
  api = await startFakeApiServer({ pki, audience: SERVER_ID, issuerPublicKeyPem: entra.publicKeyPem, serverMinor: "33" });
  tokenFile = join(root, "azure-identity-token");
  await writeFile(tokenFile, mintFederatedToken({ issuer: AKS_ISSUER, subject: POD_SUBJECT }));
});
afterAll(async () => {
  await Promise.all([entra.close(), api.close(), imds.close(), github.close(), pipelines.close()]);
  await rm(root, { recursive: true, force: true });
});

async function kubeconfig(name: string, args: readonly string[]): Promise<string> {
  const path = join(root, `${name}.kubeconfig`);
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "aks", cluster: { server: api.url, "certificate-authority-data": api.caData } }],
    contexts: [{ name: "aks", context: { cluster: "aks", user: "machine" } }],
    "current-context": "aks",
    users: [{ name: "machine", user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "kubelogin", args, env: null } } }],
  };
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

function kubectl(config: string, env: Record<string, string>) {
  return runProcess(kubectlBinary("1.33"), ["--kubeconfig", config, "get", "nodes"], {
    PATH: `${join(root, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: join(root, "home"),
    NODE_EXTRA_CA_CERTS: pki.caCertPath,
    ...env,
  });
}

const getToken = (mode: string, ...extra: string[]): string[] => ["get-token", "--login", mode, "--server-id", SERVER_ID, "--cache-dir", join(root, `cache-${mode}`), ...extra];

test.each([
  ["msi (system-assigned, IMDS)", () => ({ args: getToken("msi"), env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost }, requests: () => imds.requests.length })],
  [
    "workloadidentity (token file, as the AKS webhook sets it)",
    () => ({
      args: getToken("workloadidentity"),
      env: { AZURE_CLIENT_ID: POD_APP, AZURE_TENANT_ID: TENANT, AZURE_FEDERATED_TOKEN_FILE: tokenFile, AZURE_AUTHORITY_HOST: entra.url },
      requests: () => entra.tokenRequests().length,
    }),
  ],
  [
    "workloadidentity (GitHub Actions)",
    () => ({
      args: getToken("workloadidentity", "--client-id", GH_APP, "--tenant-id", TENANT, "--authority-host", entra.url),
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken },
      requests: () => github.requests.length,
    }),
  ],
  [
    "azurepipelines (AZURESUBSCRIPTION_* from the AzureCLI@2 task)",
    () => ({
      args: getToken("azurepipelines", "--authority-host", entra.url),
      env: {
        SYSTEM_ACCESSTOKEN: pipelines.accessToken,
        SYSTEM_OIDCREQUESTURI: pipelines.requestUri,
        AZURESUBSCRIPTION_CLIENT_ID: PIPELINES_APP,
        AZURESUBSCRIPTION_TENANT_ID: TENANT,
        AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: pipelines.serviceConnectionId,
      },
      requests: () => pipelines.requests.length,
    }),
  ],
])("%s: kubectl lists nodes; the second call makes no request", async (name, setup) => {
  const { args, env, requests } = setup();
  const config = await kubeconfig(name.split(" ")[0]!, args);
  const before = requests();
  const first = await kubectl(config, env);
  expect(first.stderr).toBe("");
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
  expect(requests() - before).toBe(1);
  expect(api.acceptedTokens.at(-1)).toBe(entra.issuedTokens.at(-1));

  const second = await kubectl(config, env);
  expect(second.code).toBe(0);
  expect(second.stdout).toContain("node-1");
  expect(requests() - before).toBe(1);
});

test("msi with a stray AZURE_CLIENT_ID asks IMDS for that user-assigned identity and fails with one Error line", async () => {
  const config = await kubeconfig("msi-stray", getToken("msi", "--cache-dir", join(root, "cache-stray")));
  const result = await kubectl(config, { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost, AZURE_CLIENT_ID: "0000beef-0000-4000-8000-000000000000" });
  expect(result.code).toBe(1);
  expect(imds.requests.at(-1)!.query.client_id).toBe("0000beef-0000-4000-8000-000000000000");
  const errors = result.stderr.split("\n").filter((line) => line.startsWith("Error: "));
  expect(new Set(errors)).toEqual(new Set(["Error: failed to get token: ManagedIdentityCredential: the requested identity isn't assigned to this resource"]));
});

test("azurepipelines without SYSTEM_ACCESSTOKEN fails before any request, with upstream's line", async () => {
  const before = pipelines.requests.length;
  const config = await kubeconfig("pipelines-no-token", getToken("azurepipelines", "--authority-host", entra.url));
  const result = await kubectl(config, { SYSTEM_OIDCREQUESTURI: pipelines.requestUri, AZURESUBSCRIPTION_CLIENT_ID: PIPELINES_APP, AZURESUBSCRIPTION_TENANT_ID: TENANT });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("Error: failed to create azidentity credential: SYSTEM_ACCESSTOKEN environment variable not set\n");
  expect(pipelines.requests.length).toBe(before);
});
