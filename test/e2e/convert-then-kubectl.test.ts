// The CI recipe end to end: a kubeconfig as `az aks get-credentials` writes it (devicecode exec),
// and one with the removed `auth-provider: azure`, converted with `convert-kubeconfig -l spn`
// (secret from the environment), then used by real kubectl against the local stack.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, expect, test } from "vitest";
import { AKS_CLIENT_ID, aksClusterYaml, aksDevicecodeUsersYaml } from "../fixtures/kubeconfigs.js";
import { kubectlBinary } from "../support/kubectl.js";
import { KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

let stack: LocalStack;
let shimDir: string;

beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  // The converted stanza targets the public cloud, as it must. The local stack stands in for it
  // through this `kubelogin` on PATH, which adds --authority-host; the kubeconfig stays exactly
  // as the converter wrote it.
  shimDir = join(stack.home, "shim-bin");
  await mkdir(shimDir, { recursive: true });
  const shim = join(shimDir, "kubelogin");
  await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${KUBELOGIN_BIN}" "$@" --authority-host "${stack.entra.url}"\n`);
  await chmod(shim, 0o755);
});
afterAll(async () => {
  await stack.close();
});

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
  const kubeconfig = join(stack.home, `${name.replace(/\W+/g, "-")}.yaml`);
  await writeFile(kubeconfig, aksClusterYaml({ server: stack.api.url, caData: stack.api.caData }) + user(stack.tenantId), { mode: 0o600 });
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
      installHint: "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://azure.github.io/kubelogin/\n",
      provideClusterInfo: false,
    },
  });

  const nodes = await runProcess(kubectlBinary("1.33"), ["get", "nodes"], stack.env({ ...ciEnv, PATH: `${shimDir}:${process.env.PATH}` }));
  expect(nodes.stderr).toBe("");
  expect(nodes.code).toBe(0);
  expect(nodes.stdout).toContain("node-1");
  // AZURE_CLIENT_ID beat the --client-id the converter kept: the token is the service principal's.
  const claims = JSON.parse(Buffer.from(stack.api.acceptedTokens.at(-1)!.split(".")[1]!, "base64url").toString()) as { appid: string };
  expect(claims.appid).toBe(stack.secretApp.clientId);
});
