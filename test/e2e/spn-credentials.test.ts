// Which client credential `-l spn` sends, and that the cache never outlives it: a rotated secret
// gets its own token, a wrong new secret is refused by Entra rather than hidden behind the cache,
// and a certificate beats a secret when both are set. The built binary against the fake Entra.
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { loadTestPki } from "../support/pki.js";
import { SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
});
afterAll(async () => {
  await stack.close();
});

function getToken(clientId: string, cacheDir: string, env: Record<string, string>, extra: readonly string[] = []) {
  const argv = [
    "get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", clientId, "--tenant-id", stack.tenantId,
    "--authority-host", stack.entra.url, "--cache-dir", cacheDir, ...extra,
  ];
  return stack.kubelogin(argv, { env });
}

function tokenOf(stdout: string): string {
  return (JSON.parse(stdout) as { status: { token: string } }).status.token;
}

test("after a secret rotation the cached token is not served: the new secret gets its own, and a wrong one is refused by Entra", async () => {
  const { clientId, oldSecret, newSecret } = stack.rotatingApp;
  const cacheDir = join(stack.home, "rotation");
  const requests = () => stack.entra.tokenRequests().filter((r) => r.form.client_id === clientId);

  const first = await getToken(clientId, cacheDir, { AZURE_CLIENT_SECRET: oldSecret });
  expect(first.code, first.stderr).toBe(0);
  const again = await getToken(clientId, cacheDir, { AZURE_CLIENT_SECRET: oldSecret });
  expect(tokenOf(again.stdout)).toBe(tokenOf(first.stdout));
  expect(requests()).toHaveLength(1);

  const rotated = await getToken(clientId, cacheDir, { AZURE_CLIENT_SECRET: newSecret });
  expect(rotated.code, rotated.stderr).toBe(0);
  expect(requests()).toHaveLength(2);
  expect(requests().at(-1)!.form.client_secret).toBe(newSecret);
  expect(tokenOf(rotated.stdout)).not.toBe(tokenOf(first.stdout));

  const wrong = "wrong-New~secret.3";
  const refused = await getToken(clientId, cacheDir, { AZURE_CLIENT_SECRET: wrong });
  expect(requests()).toHaveLength(3);
  expect(requests().at(-1)!.form.client_secret).toBe(wrong);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe("");
  expect(refused.stderr).toMatch(/^Error: failed to get token: invalid_client: AADSTS7000215: /);
  expect(refused.stderr).not.toContain(wrong);
});

test("a certificate beats a secret when both are set: Entra sees a client assertion and no secret", async () => {
  const { clientId, files } = stack.certApp;
  const before = stack.entra.tokenRequests().length;
  const result = await getToken(clientId, join(stack.home, "cert-and-secret"), { AZURE_CLIENT_SECRET: stack.secretApp.secret }, [
    "--client-certificate", files.pkcs8Pem,
  ]);
  expect(result.code, result.stderr).toBe(0);
  const sent = stack.entra.tokenRequests().slice(before);
  expect(sent).toHaveLength(1);
  expect(sent[0]!.form.client_assertion).toEqual(expect.any(String));
  expect(sent[0]!.form).not.toHaveProperty("client_secret");
  expect(tokenOf(result.stdout)).toBe(stack.entra.issuedTokens.at(-1));
});
