// Real kubectl → our built kubelogin -l devicecode / ropc → fake Entra ID (device-code endpoint,
// password and refresh-token grants) → fake API server that verifies the JWT.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { DEVICE_CODE_GRANT } from "../fakes/entra-user-flows.js";
import { loadTestPki } from "../support/pki.js";
import { KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";

const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ALICE = { username: "alice@contoso.example", password: "Corr3ct-Horse!" };
const MFA = { username: "mfa@contoso.example", password: "mfa-Pass1", requireMfa: true };

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  stack.entra.users.addPublicClient(CLIENT);
  stack.entra.users.addUser(ALICE);
  stack.entra.users.addUser(MFA);
});
afterAll(async () => {
  await stack.close();
});

let cacheCounter = 0;
let cacheDir: string;
beforeEach(() => {
  cacheDir = join(stack.home, `user-cache-${++cacheCounter}`);
  stack.entra.users.deviceCode = { user: ALICE.username, slowDownPolls: 0, pendingPolls: 1, outcome: "approve", interval: 1 };
  stack.entra.users.tokenLifetimeSeconds = 3600;
});

const userArgs = (mode: string, extra: readonly string[] = []): string[] => [
  "get-token", "--login", mode, "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", stack.tenantId,
  "--authority-host", stack.entra.url, "--cache-dir", cacheDir, ...extra,
];
const deviceCodeRequests = (): number => stack.entra.requests.filter((r) => r.path.endsWith("/oauth2/v2.0/devicecode")).length;
const getNodes = (kubeconfig: string) => stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"]);

test("devicecode: the first kubectl shows Entra's message and succeeds once approved; ten more calls show no prompt", async () => {
  const kubeconfig = await stack.writeKubeconfig(`devicecode-${cacheCounter}`, { args: userArgs("devicecode") });
  const prompts = deviceCodeRequests();
  const first = await getNodes(kubeconfig);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stderr).toBe(`${stack.entra.users.messages.at(-1)}\n`);
  expect(first.stdout).toContain("node-1");
  expect(deviceCodeRequests() - prompts).toBe(1);
  expect(stack.api.acceptedTokens.at(-1)).toBe(stack.entra.issuedTokens.at(-1));

  const tokenRequests = stack.entra.tokenRequests().length;
  for (let i = 0; i < 10; i++) {
    const next = await getNodes(kubeconfig);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toBe("");
  }
  expect(stack.entra.tokenRequests().length).toBe(tokenRequests);
  expect(deviceCodeRequests() - prompts).toBe(1);
});

test("devicecode: once the access token is too old, kubectl gets a refreshed one without a prompt", async () => {
  // 302 s is under the 5 minutes kubelogin and MSAL want left about 2 s later.
  stack.entra.users.tokenLifetimeSeconds = 302;
  const kubeconfig = await stack.writeKubeconfig(`devicecode-refresh-${cacheCounter}`, { args: userArgs("devicecode") });
  expect((await getNodes(kubeconfig)).code).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 3_500));
  const prompts = deviceCodeRequests();
  const refreshes = stack.entra.grantCount("refresh_token");
  const polls = stack.entra.grantCount(DEVICE_CODE_GRANT);
  const again = await getNodes(kubeconfig);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).toBe("");
  expect(stack.entra.grantCount("refresh_token") - refreshes).toBe(1);
  expect(stack.entra.grantCount(DEVICE_CODE_GRANT)).toBe(polls);
  expect(deviceCodeRequests()).toBe(prompts);
  expect(stack.api.acceptedTokens.at(-1)).toBe(stack.entra.issuedTokens.at(-1));
});

test("devicecode: 8 parallel cold get-token calls make one device-code request and show one message", async () => {
  const prompts = deviceCodeRequests();
  const runs = await Promise.all(Array.from({ length: 8 }, () => stack.kubelogin(userArgs("devicecode"))));
  for (const run of runs) expect(run.code, run.stderr).toBe(0);
  expect(deviceCodeRequests() - prompts).toBe(1);
  expect(runs.filter((run) => run.stderr.includes("To sign in")).map((run) => run.stderr)).toEqual([`${stack.entra.users.messages.at(-1)}\n`]);
  const tokens = new Set(runs.map((run) => (JSON.parse(run.stdout) as { status: { token: string } }).status.token));
  expect(tokens.size).toBe(1);
});

test("ropc: kubectl works with the user name and password from the exec stanza's env", async () => {
  const kubeconfig = await stack.writeKubeconfig(`ropc-${cacheCounter}`, {
    args: userArgs("ropc"),
    env: [{ name: "AAD_USER_PRINCIPAL_NAME", value: ALICE.username }, { name: "AAD_USER_PRINCIPAL_PASSWORD", value: ALICE.password }],
  });
  const result = await getNodes(kubeconfig);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe("");
  expect(result.stdout).toContain("node-1");
});

test.each([
  ["MFA required", MFA.username, MFA.password, /^Error: failed to authenticate: invalid_grant: AADSTS50076: /, /^hint: .*use --login devicecode or interactive$/],
  ["wrong password", ALICE.username, "Not-The-Password1", /^Error: failed to authenticate: invalid_grant: AADSTS50126: /, /^hint: the user name or password was rejected/],
])("ropc: %s exits 1 with one Error line and a hint", async (_name, username, password, error, hint) => {
  const result = await stack.kubelogin(userArgs("ropc", ["--username", username, "--password", password]));
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines[0]).toMatch(error);
  expect(lines[1]).toMatch(hint);
  expect(lines.filter((line) => line.startsWith("Error:"))).toHaveLength(1);
  expect(result.stderr).not.toContain(password);
});

test("devicecode: a signed-in cached call loads no heavy package and makes no request (fast path)", async () => {
  expect((await stack.kubelogin(userArgs("devicecode"))).code).toBe(0);
  const log = join(await mkdtemp(join(tmpdir(), "kubelogin-loads-")), "loads.txt");
  const recorder = fileURLToPath(new URL("../support/record-loads.mjs", import.meta.url));
  const requests = stack.entra.requests.length;
  const hit = await runProcess(process.execPath, ["--import", recorder, KUBELOGIN_BIN, ...userArgs("devicecode")], stack.env({ KUBELOGIN_LOAD_LOG: log }));
  expect(hit.code, hit.stderr).toBe(0);
  expect(stack.entra.requests.length).toBe(requests);
  const loaded = (await readFile(log, "utf8")).split("\n").filter(Boolean);
  expect(loaded.some((url) => url.endsWith("/dist/main.js"))).toBe(true);
  // The fast path alone (scripts/build.mjs): the full CLI's bundle is not loaded.
  expect(loaded.some((url) => url.endsWith("/dist/cold/full-cli.js"))).toBe(false);
  expect(loaded.filter((url) => ["@azure/msal-node", "yargs", "node-forge", "js-yaml"].some((name) => url.includes(`/node_modules/${name}/`)))).toEqual([]);
});
