// Proof-of-possession tokens end to end: real kubectl → our built kubelogin --pop-enabled → fake
// Entra binding the token to our key (token_type=pop, req_cnf) → fake API server checking the
// envelope as an Azure Arc cluster does (signature by cnf.jwk, bound inner token, u, ts, nonce).
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { visitSignInUrl } from "../support/browser.js";
import { ARC_CLUSTER_ID, KUBELOGIN_BIN, SERVER_ID, startLocalStack, type LocalStack, type ProcessResult } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

const PUBLIC_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ALICE = { username: "alice@contoso.example", password: "Corr3ct-Horse!" };

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  stack.entra.users.addPublicClient(PUBLIC_CLIENT);
  stack.entra.users.addUser(ALICE);
  stack.entra.authCode.addPublicClient(PUBLIC_CLIENT);
  stack.entra.authCode.user = ALICE.username;
});
afterAll(async () => {
  await stack.close();
});

let cacheCounter = 0;
let cacheDir: string;
beforeEach(() => {
  cacheDir = join(stack.home, `pop-cache-${++cacheCounter}`);
});

const common = (login: string, clientId: string, u = ARC_CLUSTER_ID): string[] => [
  "get-token", "--login", login, "--server-id", SERVER_ID, "--client-id", clientId, "--tenant-id", stack.tenantId,
  "--authority-host", stack.entra.url, "--cache-dir", cacheDir, "--pop-enabled", "--pop-claims", `u=${u}`,
];
const tokenOf = (result: ProcessResult): string => (JSON.parse(result.stdout) as { status: { token: string } }).status.token;
const segment = (jwt: string, index: number): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split(".")[index]!, "base64url").toString("utf8")) as Record<string, unknown>;
const popTokenRequests = (): number => stack.entra.tokenRequests().filter((request) => request.form.token_type === "pop").length;

describe("kubectl 1.33 gets nodes with a PoP token; the second call is served from the cache with a fresh envelope", () => {
  test.each([
    ["spn with a client secret", () => ({ args: common("spn", stack.secretApp.clientId), env: { AZURE_CLIENT_SECRET: stack.secretApp.secret } })],
    ["spn with a certificate", () => ({ args: [...common("spn", stack.certApp.clientId), "--client-certificate", stack.certApp.files.pkcs1Pem], env: {} })],
    ["ropc", () => ({ args: [...common("ropc", PUBLIC_CLIENT), "--username", ALICE.username], env: { AZURE_PASSWORD: ALICE.password } })],
  ])("%s", async (_name, setup) => {
    const { args, env } = setup() as { args: string[]; env: Record<string, string> };
    const kubeconfig = await stack.writeKubeconfig(`pop-${cacheCounter}`, {
      args,
      env: Object.entries(env).map(([name, value]) => ({ name, value })),
    });
    const before = popTokenRequests();
    const first = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
    expect(popTokenRequests() - before).toBe(1);
    const firstEnvelope = stack.api.acceptedPop.at(-1)!;
    expect(firstEnvelope.at).toBe(stack.entra.issuedTokens.at(-1));
    expect(firstEnvelope.u).toBe(ARC_CLUSTER_ID);

    const second = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"]);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(popTokenRequests() - before).toBe(1);
    const secondEnvelope = stack.api.acceptedPop.at(-1)!;
    expect(secondEnvelope.at).toBe(firstEnvelope.at);
    expect(secondEnvelope.kid).toBe(firstEnvelope.kid);
    expect(secondEnvelope.nonce).not.toBe(firstEnvelope.nonce);
  });
});

test("interactive: the first sign-in in a browser; kubectl then gets a fresh envelope from the cache, with no prompt", async () => {
  const args = common("interactive", PUBLIC_CLIENT);
  const child = spawn(process.execPath, [KUBELOGIN_BIN, ...args], { env: stack.env({ BROWSER: "/nonexistent" }) });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const url = await new Promise<string>((resolve) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /^https:\/\/\S+\/oauth2\/v2\.0\/authorize\?\S+$/m.exec(stderr)?.[0];
      if (found) resolve(found);
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(await visitSignInUrl(url)).toContain("You are signed in to kubelogin");
  expect(await exited, stderr).toBe(0);
  const envelope = tokenOf({ code: 0, stdout, stderr });
  expect(segment(envelope, 0).typ).toBe("pop");
  expect(segment(envelope, 1).at).toBe(stack.entra.issuedTokens.at(-1));
  expect(segment(segment(envelope, 1).at as string, 1).cnf).toEqual({ kid: segment(envelope, 0).kid, xms_ksl: "sw" });

  const authorizes = stack.entra.authCode.authorizeRequests.length;
  const kubeconfig = await stack.writeKubeconfig(`pop-interactive-${cacheCounter}`, { args });
  const result = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"], { env: { BROWSER: "/nonexistent" } });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(stack.entra.authCode.authorizeRequests.length).toBe(authorizes);
  expect(stack.api.acceptedPop.at(-1)!.at).toBe(segment(envelope, 1).at);
  expect(stack.api.acceptedPop.at(-1)!.nonce).not.toBe(segment(envelope, 1).nonce);
});

test("a token for cluster A is never served for cluster B, and B's token is refused by cluster A", async () => {
  const env = { AZURE_CLIENT_SECRET: stack.secretApp.secret };
  const before = popTokenRequests();
  const forA = await stack.kubelogin(common("spn", stack.secretApp.clientId), { env });
  const forB = await stack.kubelogin(common("spn", stack.secretApp.clientId, "/subscriptions/x/resourceGroups/y/providers/Microsoft.Kubernetes/connectedClusters/other"), { env });
  expect(forA.code, forA.stderr).toBe(0);
  expect(forB.code, forB.stderr).toBe(0);
  expect(popTokenRequests() - before).toBe(2);
  expect(segment(tokenOf(forA), 1).u).toBe(ARC_CLUSTER_ID);
  expect(segment(tokenOf(forB), 1).u).toMatch(/connectedClusters\/other$/);
  expect(segment(tokenOf(forB), 1).at).not.toBe(segment(tokenOf(forA), 1).at);

  const kubeconfig = await stack.writeKubeconfig(`pop-other-${cacheCounter}`, {
    args: common("spn", stack.secretApp.clientId, "/subscriptions/x/resourceGroups/y/providers/Microsoft.Kubernetes/connectedClusters/other"),
    env: [{ name: "AZURE_CLIENT_SECRET", value: stack.secretApp.secret }],
  });
  const refused = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"]);
  expect(refused.code).toBe(1);
  expect(stack.api.requests.at(-1)?.reason).toMatch(/^pop: u ".*other" is not this cluster$/);
});

test("the key is persisted as an RSA PRIVATE KEY and reused; an unreadable key is replaced, and so is the token bound to it", async () => {
  const env = { AZURE_CLIENT_SECRET: stack.secretApp.secret };
  const args = common("spn", stack.secretApp.clientId);
  const keyFile = join(cacheDir, "pop_rsa_key.cache");
  const first = await stack.kubelogin(args, { env });
  expect(first.code, first.stderr).toBe(0);
  expect(await readFile(keyFile, "utf8")).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
  const second = await stack.kubelogin(args, { env });
  expect(segment(tokenOf(second), 0).kid).toBe(segment(tokenOf(first), 0).kid);
  expect(segment(tokenOf(second), 1).at).toBe(segment(tokenOf(first), 1).at);

  await writeFile(keyFile, "-----BEGIN RSA PRIVATE KEY-----\ngarbage\n-----END RSA PRIVATE KEY-----\n");
  const before = popTokenRequests();
  const third = await stack.kubelogin(args, { env });
  expect(third.code, third.stderr).toBe(0);
  expect(third.stderr).toBe("");
  expect(popTokenRequests() - before).toBe(1);
  const kid = segment(tokenOf(third), 0).kid;
  expect(kid).not.toBe(segment(tokenOf(first), 0).kid);
  expect(segment(segment(tokenOf(third), 1).at as string, 1).cnf).toEqual({ kid, xms_ksl: "sw" });
  expect(await readFile(keyFile, "utf8")).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
});

test("the inner token alone, presented as a bearer token, is refused: it is bound to the key", async () => {
  const result = await stack.kubelogin(common("spn", stack.secretApp.clientId), { env: { AZURE_CLIENT_SECRET: stack.secretApp.secret } });
  expect(result.code, result.stderr).toBe(0);
  const inner = segment(tokenOf(result), 1).at as string;
  const response = await fetch(`${stack.api.url}/version`, { headers: { authorization: `Bearer ${inner}` } });
  expect(response.status).toBe(401);
  expect(stack.api.requests.at(-1)?.reason).toBe("a PoP-bound token presented without its envelope");
});
