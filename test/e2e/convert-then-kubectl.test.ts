// The recipes end to end: a kubeconfig as `az aks get-credentials` writes it (devicecode exec),
// and one with the removed `auth-provider: azure`, converted with `convert-kubeconfig -l spn`
// (secret from the environment), `-l msi` (a VM's identity through IMDS) or `-l workloadidentity`
// (what the AKS webhook puts in a pod), then used by real kubectl against the local stack.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFakeImds, type FakeImds } from "../fakes/fake-imds.js";
import { mintFederatedToken } from "../fakes/federated-token.js";
import { AKS_CLIENT_ID, aksClusterYaml, aksDevicecodeUsersYaml } from "../fixtures/kubeconfigs.js";
import { kubectlBinary } from "../support/kubectl.js";
import { runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

const SYSTEM_ASSIGNED = { clientId: "55555555-5555-4555-8555-555555555551" };
const USER_ASSIGNED = { clientId: "55555555-5555-4555-8555-555555555552" };

let stack: LocalStack;
let imds: FakeImds;

beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  imds = await startFakeImds({
    systemAssigned: SYSTEM_ASSIGNED,
    userAssigned: [USER_ASSIGNED],
    issue: (clientId, resource) => stack.entra.issueManagedIdentityToken(clientId, resource),
  });
  // The service account token the workload identity webhook projects into the pod.
  await writeFile(join(stack.home, "azure-identity-token"), mintFederatedToken({ issuer: stack.workloadApp.issuer, subject: stack.workloadApp.subject }));
});
afterAll(async () => {
  await Promise.all([stack.close(), imds.close()]);
});

const INSTALL_HINT = "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://azure.github.io/kubelogin/\n";
const appIdOf = (token: string): string => (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { appid: string }).appid;

async function writeAksKubeconfig(name: string, user: (tenant: string) => string = aksDevicecodeUsersYaml): Promise<string> {
  const kubeconfig = join(stack.home, `${name.replace(/\W+/g, "-")}.yaml`);
  await writeFile(kubeconfig, aksClusterYaml({ server: stack.api.url, caData: stack.api.caData }) + user(stack.tenantId), { mode: 0o600 });
  return kubeconfig;
}

const legacyAuthProviderUser = (tenant: string) => `users:
- name: clusterUser_rg_aks
  user:
    auth-provider:
      config:
        access-token: stale-token-from-2022
        apiserver-id: ${SERVER_ID}
        client-id: ${AKS_CLIENT_ID}
        config-mode: "1"
        environment: AzurePublicCloud
        tenant-id: ${tenant}
      name: azure
`;

test.each([
  ["az aks get-credentials (devicecode exec)", aksDevicecodeUsersYaml],
  ["legacy auth-provider: azure", legacyAuthProviderUser],
])("%s → convert-kubeconfig -l spn → kubectl get nodes", async (name, user) => {
  const kubeconfig = await writeAksKubeconfig(name, user);
  const ciEnv = { KUBECONFIG: kubeconfig, AZURE_CLIENT_ID: stack.secretApp.clientId, AZURE_CLIENT_SECRET: stack.secretApp.secret };

  const converted = await stack.kubelogin(["convert-kubeconfig", "-l", "spn"], { env: ciEnv });
  expect(converted).toMatchObject({ code: 0, stdout: "", stderr: "" });

  const written = await readFile(kubeconfig, "utf8");
  expect(written).not.toContain(stack.secretApp.secret);
  const doc = load(written) as { users: { user: Record<string, unknown> }[] };
  expect(doc.users[0]!.user).toEqual({
    exec: {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      args: ["get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", AKS_CLIENT_ID, "--tenant-id", stack.tenantId, "--environment", "AzurePublicCloud"],
      command: "kubelogin",
      env: null,
      installHint: INSTALL_HINT,
      provideClusterInfo: false,
    },
  });

  // The converted stanza targets the public cloud, as it must; this `kubelogin` sends it to the local stack.
  const nodes = await runProcess(kubectlBinary("1.33"), ["get", "nodes"], stack.env({ ...ciEnv, PATH: `${stack.publicCloudBinDir}:${process.env.PATH}` }));
  expect(nodes.stderr).toBe("");
  expect(nodes.code).toBe(0);
  expect(nodes.stdout).toContain("node-1");
  // AZURE_CLIENT_ID beat the --client-id the converter kept: the token is the service principal's.
  expect(appIdOf(stack.api.acceptedTokens.at(-1)!)).toBe(stack.secretApp.clientId);
});

test.each([
  [
    "msi (the VM's system-assigned identity)",
    {
      flags: [],
      args: [],
      env: () => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost }),
      requests: () => imds.imdsRequests().length,
      appId: () => SYSTEM_ASSIGNED.clientId,
    },
  ],
  [
    "msi --client-id (a user-assigned identity)",
    {
      flags: ["--client-id", USER_ASSIGNED.clientId],
      args: ["--client-id", USER_ASSIGNED.clientId],
      env: () => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost }),
      requests: () => imds.imdsRequests().length,
      appId: () => USER_ASSIGNED.clientId,
    },
  ],
  [
    "workloadidentity (the pod's environment from the AKS webhook)",
    {
      flags: [],
      args: [],
      env: () => ({
        AZURE_CLIENT_ID: stack.workloadApp.clientId,
        AZURE_TENANT_ID: stack.tenantId,
        AZURE_FEDERATED_TOKEN_FILE: join(stack.home, "azure-identity-token"),
        AZURE_AUTHORITY_HOST: stack.entra.url,
      }),
      requests: () => stack.entra.tokenRequests().length,
      appId: () => stack.workloadApp.clientId,
    },
  ],
] as const)("az aks get-credentials → convert-kubeconfig -l %s → kubectl get nodes, then a cached second call", async (name, { flags, args, env, requests, appId }) => {
  const mode = name.split(" ")[0]!;
  const kubeconfig = await writeAksKubeconfig(name);

  const converted = await stack.kubelogin(["convert-kubeconfig", "-l", mode, ...flags], { env: { KUBECONFIG: kubeconfig } });
  expect(converted).toMatchObject({ code: 0, stdout: "", stderr: "" });
  const doc = load(await readFile(kubeconfig, "utf8")) as { users: { user: Record<string, unknown> }[] };
  expect(doc.users[0]!.user).toEqual({
    exec: {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      args: ["get-token", "--login", mode, "--server-id", SERVER_ID, ...args],
      command: "kubelogin",
      env: null,
      installHint: INSTALL_HINT,
      provideClusterInfo: false,
    },
  });

  const kubectl = () => stack.kubectl("1.33", ["get", "nodes"], { env: { KUBECONFIG: kubeconfig, ...env() } });
  const before = requests();
  const first = await kubectl();
  expect(first.stderr).toBe("");
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
  expect(requests() - before).toBe(1);
  expect(stack.api.acceptedTokens.at(-1)).toBe(stack.entra.issuedTokens.at(-1));
  expect(appIdOf(stack.api.acceptedTokens.at(-1)!)).toBe(appId());

  const second = await kubectl();
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout).toContain("node-1");
  expect(requests() - before).toBe(1);
});
