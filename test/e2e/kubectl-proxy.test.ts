// Real kubectl → our built kubelogin behind a corporate proxy (issue 12): HTTPS_PROXY points at a
// real CONNECT proxy on loopback (test/fakes/fake-proxy.ts). Fake Entra goes by a name only that
// proxy resolves, so the token can only have come through it; IMDS must be reached directly.
// kubectl itself reaches the API server on 127.0.0.1, which Go never proxies.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFakeApiServer, type FakeApiServer } from "../fakes/fake-apiserver.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { startFakeImds, type FakeImds } from "../fakes/fake-imds.js";
import { startFakeProxy, type FakeProxy } from "../fakes/fake-proxy.js";
import { KUBELOGIN_BIN, runProcess, SERVER_ID } from "../support/local-stack.js";
import { kubectlBinary, KUBECTL_VERSIONS } from "../support/kubectl.js";
import { loadTestPki, type TestPki } from "../support/pki.js";

const TENANT = "00000000-0000-0000-0000-0000000000cc";
const APP = { clientId: "8e8e8e8e-0000-4000-8000-000000000001", secret: "proxied-Secret~value" };
const MI = { clientId: "8e8e8e8e-0000-4000-8000-000000000002" };
const ENTRA_NAME = "entra.kubelogin.test";

let pki: TestPki;
let root: string;
let entra: FakeEntra;
let api: FakeApiServer;
let imds: FakeImds;
let proxy: FakeProxy;

beforeAll(async () => {
  pki = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
  root = await mkdtemp(join(tmpdir(), "kubelogin-proxy-e2e-"));
  await mkdir(join(root, "bin"));
  await mkdir(join(root, "home"));
  await symlink(KUBELOGIN_BIN, join(root, "bin", "kubelogin"));
  entra = await startFakeEntra({ pki, tenants: [TENANT], apps: [APP], hostname: ENTRA_NAME });
  imds = await startFakeImds({ systemAssigned: MI, issue: (id, resource) => entra.issueManagedIdentityToken(id, resource) });
  api = await startFakeApiServer({ pki, audience: SERVER_ID, issuerPublicKeyPem: entra.publicKeyPem, serverMinor: "33" });
  proxy = await startFakeProxy({ hosts: { [ENTRA_NAME]: "127.0.0.1" } });
});
afterAll(async () => {
  await Promise.all([entra.close(), api.close(), imds.close(), proxy.close()]);
  await rm(root, { recursive: true, force: true });
});

async function kubeconfig(name: string, args: readonly string[]): Promise<string> {
  const path = join(root, `${name}.kubeconfig`);
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "aks", cluster: { server: api.url, "certificate-authority-data": api.caData } }],
    contexts: [{ name: "aks", context: { cluster: "aks", user: "proxied" } }],
    "current-context": "aks",
    users: [{ name: "proxied", user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "kubelogin", args, env: null } } }],
  };
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

function kubectl(version: string, config: string, env: Record<string, string>) {
  return runProcess(kubectlBinary(version), ["--kubeconfig", config, "get", "nodes"], {
    PATH: `${join(root, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: join(root, "home"),
    NODE_EXTRA_CA_CERTS: pki.caCertPath,
    HTTPS_PROXY: proxy.url,
    HTTP_PROXY: proxy.url,
    ...env,
  });
}

test.each(KUBECTL_VERSIONS)("kubectl %s, spn behind HTTPS_PROXY: the Entra traffic goes through the proxy and kubectl lists nodes", async (version) => {
  const args = ["get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", APP.clientId, "--tenant-id", TENANT,
    "--authority-host", entra.url, "--cache-dir", join(root, `cache-spn-${version}`)];
  const config = await kubeconfig(`spn-${version}`, args);
  const tunnels = proxy.count(ENTRA_NAME);
  const result = await kubectl(version, config, { AZURE_CLIENT_SECRET: APP.secret });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
  expect(proxy.count(ENTRA_NAME) - tunnels).toBeGreaterThanOrEqual(1);
  expect(api.acceptedTokens.at(-1)).toBe(entra.issuedTokens.at(-1));
  // Nothing else went through it: not the API server, not IMDS.
  expect(proxy.seen.every((entry) => entry.startsWith(`${ENTRA_NAME}:`))).toBe(true);
});

test("msi behind HTTP_PROXY and HTTPS_PROXY: IMDS is reached directly, the proxy sees none of it", async () => {
  const before = proxy.seen.length;
  const imdsBefore = imds.imdsRequests().length;
  const config = await kubeconfig("msi", ["get-token", "--login", "msi", "--server-id", SERVER_ID, "--cache-dir", join(root, "cache-msi")]);
  const result = await kubectl("1.33", config, { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(imds.imdsRequests().length - imdsBefore).toBe(1);
  expect(proxy.seen.length).toBe(before);
});
