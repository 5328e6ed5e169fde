// get-token -l ropc in-process against the fake Entra ID (MSAL is real).
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ALICE = { username: "alice@contoso.example", password: "Corr3ct-Horse!" };
const BOB = { username: "bob@contoso.example", password: "B0b-pass.word" };
const MFA = { username: "mfa@contoso.example", password: "mfa-Pass1", requireMfa: true };
const BLOCKED = { username: "blocked@contoso.example", password: "blocked-Pass1", blockedByConditionalAccess: true };

let entra: FakeEntra;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [] });
  entra.users.addPublicClient(CLIENT);
  for (const user of [ALICE, BOB, MFA, BLOCKED]) entra.users.addUser(user);
});
afterAll(async () => {
  await entra.close();
});

const args = (cacheDir: string, extra: string[] = []): string[] => [
  "get-token", "-l", "ropc", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", TENANT,
  "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra,
];
const newCacheDir = () => mkdtemp(join(tmpdir(), "kubelogin-ropc-"));
const tokenOf = (stdout: string): string => (JSON.parse(stdout) as { status: { token: string } }).status.token;
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<string, string>;

test.each([
  ["username", [], {}, "username cannot be empty", "hint: pass --username or set AZURE_USERNAME or AAD_USER_PRINCIPAL_NAME"],
  ["password", ["--username", ALICE.username], {}, "password cannot be empty", "hint: pass --password or set AZURE_PASSWORD or AAD_USER_PRINCIPAL_PASSWORD"],
])("a missing %s is upstream's error", async (_name, extra, env, message, hint) => {
  const rt = testRuntime({ env });
  expect(await run(args(await newCacheDir(), extra), rt)).toBe(1);
  expect(rt.stderr.text()).toBe(`Error: failed to create azidentity credential: ${message}\n${hint}\n`);
});

test("signs in with the password from the environment, writes auth.json, and the next run is served from the cache", async () => {
  const cacheDir = await newCacheDir();
  const env = { AZURE_USERNAME: ALICE.username, AZURE_PASSWORD: ALICE.password };
  const before = entra.grantCount("password");
  const rt = testRuntime({ env });
  expect(await run(args(cacheDir), rt), rt.stderr.text()).toBe(0);
  expect(rt.stderr.text()).toBe("");
  expect(claimsOf(tokenOf(rt.stdout.text())).upn).toBe(ALICE.username);
  expect(JSON.parse(await readFile(join(cacheDir, "auth.json"), "utf8"))).toMatchObject({ username: ALICE.username, clientId: CLIENT, tenantId: TENANT });
  const again = testRuntime({ env });
  expect(await run(args(cacheDir), again)).toBe(0);
  expect(tokenOf(again.stdout.text())).toBe(tokenOf(rt.stdout.text()));
  expect(entra.grantCount("password") - before).toBe(1);
});

test("another user through the same cache dir gets their own token, never the first user's", async () => {
  const cacheDir = await newCacheDir();
  const alice = testRuntime({ env: { AZURE_USERNAME: ALICE.username, AZURE_PASSWORD: ALICE.password } });
  const bob = testRuntime({ env: { AZURE_USERNAME: BOB.username, AZURE_PASSWORD: BOB.password } });
  expect(await run(args(cacheDir), alice)).toBe(0);
  expect(await run(args(cacheDir), bob)).toBe(0);
  expect(claimsOf(tokenOf(bob.stdout.text())).upn).toBe(BOB.username);
  const aliceAgain = testRuntime({ env: { AZURE_USERNAME: ALICE.username, AZURE_PASSWORD: ALICE.password } });
  expect(await run(args(cacheDir), aliceAgain)).toBe(0);
  expect(tokenOf(aliceAgain.stdout.text())).toBe(tokenOf(alice.stdout.text()));
});

test("a wrong password says so in one Error line and a hint, without echoing it, and is not served a cached token", async () => {
  const cacheDir = await newCacheDir();
  expect(await run(args(cacheDir), testRuntime({ env: { AZURE_USERNAME: ALICE.username, AZURE_PASSWORD: ALICE.password } }))).toBe(0);
  const wrong = "Wr0ng-Guess-Pass";
  const rt = testRuntime({ env: { AZURE_USERNAME: ALICE.username, AZURE_PASSWORD: wrong } });
  expect(await run(args(cacheDir), rt)).toBe(1);
  const lines = rt.stderr.text().trimEnd().split("\n");
  // The password grant is upstream's Authenticate step (compat spec §1.3 item 8): ropc never signs in from a saved record.
  expect(lines[0]).toBe("Error: failed to authenticate: invalid_grant: AADSTS50126: Error validating credentials due to invalid username or password.");
  expect(lines[1]).toBe("hint: the user name or password was rejected; check --username (set by AZURE_USERNAME) and --password (set by AZURE_PASSWORD)");
  expect(lines.filter((line) => line.startsWith("Error:"))).toHaveLength(1);
  expect(rt.stderr.text()).not.toContain(wrong);
  expect(rt.stdout.text()).toBe("");
});

test.each([
  ["multi-factor authentication (AADSTS50076)", MFA, "AADSTS50076"],
  ["a Conditional Access block (AADSTS53003)", BLOCKED, "AADSTS53003"],
])("%s ends with a hint to use devicecode or interactive", async (_name, user, code) => {
  const rt = testRuntime();
  expect(await run(args(await newCacheDir(), ["--username", user.username, "--password", user.password]), rt)).toBe(1);
  const lines = rt.stderr.text().trimEnd().split("\n");
  expect(lines[0]).toMatch(new RegExp(`^Error: failed to authenticate: invalid_grant: ${code}: `));
  expect(lines[1]).toMatch(/^hint: .*use --login devicecode or interactive$/);
  expect(rt.stderr.text()).not.toContain(user.password);
});

test("a failed PoP sign-in carries upstream's two PoP breadcrumbs behind GetToken's prefix: upstream's PoP credential has no sign-in step of its own", async () => {
  const rt = testRuntime({ env: { AZURE_USERNAME: ALICE.username, AZURE_PASSWORD: "not-the-password" } });
  expect(await run(args(await newCacheDir(), ["--pop-enabled", "--pop-claims", "u=/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/c"]), rt)).toBe(1);
  expect(rt.stderr.text().split("\n")[0]).toMatch(
    /^Error: failed to get token: failed to create PoP token using username and password credential: failed to create PoP token with username\/password flow: invalid_grant: AADSTS50126: /,
  );
});
