// Bad input: exit 1, exactly one `Error:` line on stderr (upstream's text where the spec fixes
// one), nothing on stdout, and no secret anywhere.
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";
import { refusingPort, type RefusingPort } from "../support/refusing-port.js";

let stack: LocalStack;
let refusing: RefusingPort;
let silent: Server;
beforeAll(async () => {
  // Accepts connections and never answers: an identity provider that hangs.
  silent = createServer(() => undefined).listen(0, "127.0.0.1");
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  refusing = await refusingPort();
});
afterAll(async () => {
  silent.close();
  await refusing.close();
  await stack.close();
});

const WRONG_SECRET = "definitely-Wrong-secret-123";

function args(overrides: Record<string, string> = {}, drop: readonly string[] = []): string[] {
  const flags: Record<string, string> = {
    "--login": "spn",
    "--server-id": SERVER_ID,
    "--client-id": stack.secretApp.clientId,
    "--tenant-id": stack.tenantId,
    "--authority-host": stack.entra.url,
    "--cache-dir": join(stack.home, "errors-cache"),
    ...overrides,
  };
  return ["get-token", ...Object.entries(flags).filter(([flag]) => !drop.includes(flag)).flat()];
}

test.each([
  {
    name: "malformed KUBERNETES_EXEC_INFO",
    reachesEntra: false,
    argv: () => args(),
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret, KUBERNETES_EXEC_INFO: "{not json" }),
    error: /^Error: cannot unmarshal "\{not json" to ExecCredential: /,
  },
  {
    name: "unsupported exec apiVersion",
    reachesEntra: false,
    argv: () => args(),
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret, KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1alpha1"}' }),
    error: /^Error: api version: client\.authentication\.k8s\.io\/v1alpha1 is not supported$/,
  },
  {
    name: "missing --server-id",
    reachesEntra: false,
    argv: () => args({}, ["--server-id"]),
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret }),
    error: /^Error: server-id is required$/,
  },
  {
    name: "missing client secret",
    reachesEntra: false,
    argv: () => args(),
    env: () => ({}),
    error: /^Error: failed to create azidentity credential: client secret cannot be empty$/,
    hint: /AZURE_CLIENT_SECRET/,
  },
  {
    name: "wrong secret",
    reachesEntra: true,
    argv: () => args(),
    env: () => ({ AZURE_CLIENT_SECRET: WRONG_SECRET }),
    error: /^Error: failed to get token: invalid_client: AADSTS7000215: Invalid client secret provided\./,
    hint: /AZURE_CLIENT_SECRET/,
  },
  {
    name: "unknown tenant",
    reachesEntra: true,
    argv: () => args({ "--tenant-id": "no-such-tenant" }),
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret }),
    error: /^Error: failed to get token: .*AADSTS90002: Tenant 'no-such-tenant' not found/,
  },
  {
    name: "unknown application",
    reachesEntra: true,
    argv: () => args({ "--client-id": "99999999-9999-9999-9999-999999999999" }),
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret }),
    error: /^Error: failed to get token: .*AADSTS700016: /,
  },
  ...[
    { login: "devicecode", extra: {}, prefix: "failed to create device code credential" },
    { login: "interactive", extra: {}, prefix: "failed to create interactive browser credential" },
    { login: "ropc", extra: { "--username": "user@example.com", "--password": "pass-word-1" }, prefix: "failed to create username password credential" },
    { login: "workloadidentity", extra: { "--federated-token-file": "/nonexistent/token" }, prefix: "failed to create workload identity credential" },
    { login: "azurecli", extra: {}, prefix: "failed to create azure cli credential" },
    { login: "azd", extra: {}, prefix: "failed to create azure developer cli credential" },
    { login: "spn", extra: {}, prefix: "failed to create client secret credential" },
  ].map(({ login, extra, prefix }) => ({
    name: `--login ${login} --tenant-id 'bad tenant' (upstream's constructor prefix)`,
    reachesEntra: false,
    argv: () => args({ "--login": login, "--tenant-id": "bad tenant", ...extra }),
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret }),
    error: new RegExp(`^Error: failed to create azidentity credential: ${prefix}: invalid tenantID\\. You can locate your tenantID`),
  })),
  {
    name: "azurecli with a subscription name holding ';'",
    reachesEntra: false,
    argv: () => args({ "--login": "azurecli", "--subscription": "my sub;x" }),
    env: () => ({}),
    error: /^Error: failed to create azidentity credential: failed to create azure cli credential: AzureCLICredential: Subscription "my sub;x" contains invalid characters\. If this is the name of a subscription, use its ID instead$/,
  },
  {
    name: "spn --legacy with a wrong secret (adal's text, unwrapped)",
    reachesEntra: true,
    argv: () => [...args(), "--legacy"],
    env: () => ({ AZURE_CLIENT_SECRET: WRONG_SECRET }),
    error: new RegExp(
      `^Error: failed to get token: adal: Refresh request failed\\. Status Code = '401'\\. Response body: \\{.*AADSTS7000215.*\\} Endpoint https://127\\.0\\.0\\.1:\\d+/${"[0-9a-f-]+"}/oauth2/token\\?api-version=1\\.0$`,
    ),
    hint: /AZURE_CLIENT_SECRET/,
  },
  {
    name: "spn --legacy with an unreadable certificate (read at token time)",
    reachesEntra: false,
    argv: () => [...args({ "--client-certificate": "/nonexistent/cert.pem" }), "--legacy"],
    env: () => ({}),
    error: /^Error: failed to get token: failed to read certificate: failed to read the certificate file \(\/nonexistent\/cert\.pem\): open \/nonexistent\/cert\.pem: no such file or directory$/,
  },
  {
    name: "spn --legacy with a tenant azidentity would refuse (adal sends it, Entra answers)",
    reachesEntra: true,
    argv: () => [...args({ "--tenant-id": "bad tenant" }), "--legacy"],
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret }),
    error: /^Error: failed to get token: adal: Refresh request failed\. Status Code = '\d+'\. Response body: .* Endpoint https:\/\/127\.0\.0\.1:\d+\/bad%20tenant\/oauth2\/token\?api-version=1\.0$/,
  },
  {
    name: "unreachable authority",
    reachesEntra: false,
    argv: () => args({ "--authority-host": `https://127.0.0.1:${refusing.port}/` }),
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret }),
    error: /^Error: failed to get token: could not reach the identity provider at https:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/,
  },
  {
    name: "invalid --authority-host",
    reachesEntra: false,
    argv: () => args({ "--authority-host": "invalid" }),
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret }),
    error: /^Error: authority host "invalid" is not valid: parse "invalid": invalid URI for request$/,
  },
  {
    name: "authority host without trailing slash",
    reachesEntra: false,
    argv: () => args({ "--authority-host": "https://login.example.com" }),
    env: () => ({ AZURE_CLIENT_SECRET: stack.secretApp.secret }),
    error: /^Error: authority host "https:\/\/login\.example\.com" should have a trailing slash$/,
  },
  {
    name: "unsupported login method",
    reachesEntra: false,
    argv: () => args({ "--login": "SPN" }),
    env: () => ({}),
    error: /^Error: 'SPN' is not a supported login method\. Supported method is one of devicecode, interactive, spn, ropc, msi, azurecli, azd, workloadidentity, azurepipelines$/,
  },
  {
    name: "bad --timeout",
    reachesEntra: false,
    argv: () => [...args(), "--timeout", "30"],
    env: () => ({}),
    error: /^Error: invalid argument "30" for "--timeout" flag: time: missing unit in duration "30"$/,
  },
  {
    name: "unknown flag",
    reachesEntra: false,
    argv: () => [...args(), "--foo"],
    env: () => ({}),
    error: /^Error: unknown flag: --foo$/,
  },
])("$name → exit 1, one Error line, empty stdout", async ({ reachesEntra, argv, env, error, hint }) => {
  const requestsBefore = stack.entra.requests.length;
  const result = await stack.kubelogin(argv(), { env: env() });
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines.filter((line) => line.startsWith("Error:"))).toHaveLength(1);
  expect(lines[0]).toMatch(error);
  if (hint) expect(lines.find((line) => line.startsWith("hint:"))).toMatch(hint);
  expect(result.stderr).not.toContain(stack.secretApp.secret);
  expect(result.stderr).not.toContain(WRONG_SECRET);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  if (reachesEntra) expect(stack.entra.requests.length).toBeGreaterThan(requestsBefore);
  else expect(stack.entra.requests.length).toBe(requestsBefore);
});

test("an exec-info error is reported before any request to the identity provider", async () => {
  const before = stack.entra.requests.length;
  const result = await stack.kubelogin(args(), { env: { AZURE_CLIENT_SECRET: stack.secretApp.secret, KUBERNETES_EXEC_INFO: '{"apiVersion":"v9"}' } });
  expect(result.code).toBe(1);
  expect(stack.entra.requests.length).toBe(before);
});

test("a verbose error shows the cause chain but never the secret", async () => {
  const result = await stack.kubelogin([...args(), "-v", "10"], { env: { AZURE_CLIENT_SECRET: WRONG_SECRET } });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("AADSTS7000215");
  expect(result.stderr).not.toContain(WRONG_SECRET);
});

test("--timeout bounds the whole token acquisition, even when the authority never answers", async () => {
  const { port } = silent.address() as { port: number };
  const result = await stack.kubelogin([...args({ "--authority-host": `https://127.0.0.1:${port}/` }), "--timeout", "1s"], {
    env: { AZURE_CLIENT_SECRET: stack.secretApp.secret },
  });
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  // No wall-clock bound on a cold process: a hang is killed by runProcess, and then this line,
  // which only kubelogin's own timeout writes, is missing.
  expect(result.stderr.split("\n")[0]).toBe("Error: failed to get token: context deadline exceeded");
  expect(result.stderr.split("\n")[1]).toMatch(/^hint: kubelogin stopped waiting after 1s \(--timeout\)/);
});

const PUBLIC_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
test.each([
  {
    mode: "devicecode",
    legacy: [] as string[],
    setup: () => {
      stack.entra.users.addPublicClient(PUBLIC_CLIENT);
      stack.entra.users.deviceCode = { ...stack.entra.users.deviceCode, outcome: "never", interval: 1 };
    },
    // No saved record: upstream's Authenticate step, and its credential's name before Go's context error.
    error: /^Error: failed to authenticate: DeviceCodeCredential: context deadline exceeded$/,
  },
  {
    mode: "devicecode --legacy",
    legacy: ["--legacy"],
    setup: () => {
      stack.entra.v1.addPublicClient(PUBLIC_CLIENT);
      stack.entra.v1.deviceCode = { user: "someone@contoso.example", slowDownPolls: 0, pendingPolls: 1000, interval: 1 };
    },
    error:
      /^Error: failed to get token: waiting for device code authentication to complete: (autorest\/adal\/devicetoken: Error occurred while sending request with device code for a token: Post "[^"]+": )?context deadline exceeded$/,
  },
])("$mode: a sign-in not completed within --timeout keeps upstream's first line; the plain words are the hint", async ({ legacy, setup, error }) => {
  setup();
  const result = await stack.kubelogin([
    ...args({ "--login": "devicecode", "--client-id": PUBLIC_CLIENT, "--cache-dir": join(stack.home, `timeout-cache-${legacy.length}`) }),
    ...legacy,
    "--timeout", "2s",
  ]);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^To sign in, use a web browser/);
  expect(lines[1]).toMatch(error);
  expect(lines[2]).toMatch(/^hint: the device-code sign-in was not completed within 2s \(--timeout\): open the page and enter the code sooner/);
});
