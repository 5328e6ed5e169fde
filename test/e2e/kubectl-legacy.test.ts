// spn --legacy end to end: real kubectl → our built kubelogin → the fake Entra's ADAL v1 token
// endpoint (resource=) → fake API server; the token is cached like every other (decision 9).
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
});
afterAll(async () => {
  await stack.close();
});

test.each([
  ["a client secret", () => ({ clientId: stack.secretApp.clientId, args: [] as string[], env: [{ name: "AZURE_CLIENT_SECRET", value: stack.secretApp.secret }] })],
  ["a PFX certificate", () => ({ clientId: stack.certApp.clientId, args: ["--client-certificate", stack.certApp.files.pfx, "--client-certificate-password", stack.certApp.files.pfxPassword], env: [] })],
])("kubectl 1.33 lists nodes with spn --legacy and %s; the second call is served from the cache", async (_name, setup) => {
  const { clientId, args, env } = setup();
  const kubeconfig = await stack.writeKubeconfig(`legacy-${clientId}`, {
    args: [
      "get-token", "--login", "spn", "--legacy", "--server-id", SERVER_ID, "--client-id", clientId, "--tenant-id", stack.tenantId,
      "--authority-host", stack.entra.url, "--cache-dir", join(stack.home, `legacy-cache-${clientId}`), ...args,
    ],
    env,
  });
  const v1Requests = () => stack.entra.requests.filter((r) => r.path === `/${stack.tenantId}/oauth2/token`).length;
  const before = v1Requests();
  const first = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"]);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toContain("node-1");
  expect(v1Requests() - before).toBe(1);
  expect(stack.api.acceptedTokens.at(-1)).toBe(stack.entra.issuedTokens.at(-1));

  const second = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"]);
  expect(second.code).toBe(0);
  expect(v1Requests() - before).toBe(1);
});
