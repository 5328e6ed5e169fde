// get-token -l devicecode in-process against the fake Entra ID (MSAL is real): the message on
// stderr, polling, the timeout, silent runs after the first sign-in, the authentication record.
import { mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { DEVICE_CODE_GRANT } from "../fakes/entra-user-flows.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { fixedClock, testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT = "0d1c5a7e-9f3b-4c2d-8e6f-1a2b3c4d5e6f";
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const USER = { username: "alice@contoso.example", password: "unused-here" };

let entra: FakeEntra;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT, OTHER_TENANT], apps: [] });
  entra.users.addPublicClient(CLIENT);
  entra.users.addUser(USER);
});
afterAll(async () => {
  await entra.close();
});

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-devicecode-"));
  entra.users.deviceCode = { user: USER.username, slowDownPolls: 0, pendingPolls: 1, outcome: "approve", interval: 0 };
  entra.users.tokenLifetimeSeconds = 3600;
});

const args = (extra: string[] = [], tenant = TENANT): string[] => [
  "get-token", "-l", "devicecode", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", tenant,
  "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra,
];
const deviceCodeRequests = (): number => entra.requests.filter((r) => r.path.endsWith("/oauth2/v2.0/devicecode")).length;
const tokenOf = (stdout: string): string => (JSON.parse(stdout) as { status: { token: string } }).status.token;
/**
 * Tokens issued for 301 s fall under the 5 minutes both kubelogin and MSAL want left about a
 * second later; expiry times are whole seconds, so wait two.
 */
const SHORT_LIVED_WAIT_MS = 2_200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("client and tenant are required, with upstream's texts", async () => {
  const rt = testRuntime();
  expect(await run(["get-token", "-l", "devicecode", "--server-id", SERVER_ID, "--tenant-id", TENANT, "--cache-dir", cacheDir], rt)).toBe(1);
  expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to create azidentity credential: client ID cannot be empty");
});

test("the first run shows Entra's message on stderr as sent and prints the token; the next run is served from the cache", async () => {
  const before = deviceCodeRequests();
  const rt = testRuntime();
  expect(await run(args(), rt), rt.stderr.text()).toBe(0);
  expect(rt.stderr.text()).toBe(`${entra.users.messages.at(-1)}\n`);
  expect(entra.users.messages.at(-1)).toMatch(/^To sign in, use a web browser to open the page https:\/\/microsoft.com\/devicelogin and enter the code \w+ to authenticate\.$/);
  expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));

  const tokensBefore = entra.tokenRequests().length;
  const again = testRuntime();
  expect(await run(args(), again)).toBe(0);
  expect(again.stderr.text()).toBe("");
  expect(tokenOf(again.stdout.text())).toBe(tokenOf(rt.stdout.text()));
  expect(deviceCodeRequests() - before).toBe(1);
  expect(entra.tokenRequests().length).toBe(tokensBefore);
});

test("auth.json is upstream's record (key order, no newline, 0600), and a per-target record sits beside it", async () => {
  expect(await run(args(), testRuntime())).toBe(0);
  const text = await readFile(join(cacheDir, "auth.json"), "utf8");
  const record = JSON.parse(text) as Record<string, string>;
  expect(Object.keys(record)).toEqual(["authority", "clientId", "homeAccountId", "tenantId", "username", "version"]);
  expect(record).toMatchObject({ authority: entra.url.replace(/\/$/, ""), clientId: CLIENT, tenantId: TENANT, username: USER.username, version: "1.0" });
  expect(record.homeAccountId).toMatch(new RegExp(`^[0-9a-f-]{36}\\.${TENANT}$`));
  expect(text.endsWith("}")).toBe(true);
  expect((await stat(join(cacheDir, "auth.json"))).mode & 0o777).toBe(0o600);
  const ours = (await readdir(cacheDir)).filter((name) => /^auth-[0-9a-f]{40}\.json$/.test(name));
  expect(ours).toHaveLength(1);
  expect(await readFile(join(cacheDir, ours[0]!), "utf8")).toBe(text);
});

test("polls wait the interval Entra gives while authorization is pending", async () => {
  entra.users.deviceCode = { ...entra.users.deviceCode, pendingPolls: 2, interval: 1 };
  const polls: number[] = [];
  const rt = testRuntime({
    fetch: (input, init) => {
      if (typeof init?.body === "string" && new URLSearchParams(init.body).get("grant_type") === DEVICE_CODE_GRANT) polls.push(Date.now());
      return fetch(input, init);
    },
  });
  expect(await run(args(), rt)).toBe(0);
  expect(polls).toHaveLength(3);
  for (let i = 1; i < polls.length; i++) expect(polls[i]! - polls[i - 1]!).toBeGreaterThanOrEqual(990);
});

test("slow_down makes every later poll wait 5 s longer (RFC 8628), on the run's clock", async () => {
  entra.users.deviceCode = { ...entra.users.deviceCode, slowDownPolls: 2, pendingPolls: 1 };
  const clock = fixedClock(Date.now());
  const started = clock.now();
  const polls = entra.grantCount(DEVICE_CODE_GRANT);
  const rt = testRuntime({ clock });
  expect(await run(args(), rt)).toBe(0);
  expect(entra.grantCount(DEVICE_CODE_GRANT) - polls).toBe(4);
  // Before poll 2: +5 s; before polls 3 and 4: +10 s each.
  expect(clock.now() - started).toBe(25_000);
});

test("a sign-in not completed within --timeout says so and names --timeout and AZURE_CLI_TIMEOUT", async () => {
  entra.users.deviceCode = { ...entra.users.deviceCode, outcome: "never", interval: 1 };
  const rt = testRuntime();
  expect(await run(args(["--timeout", "2s"]), rt)).toBe(1);
  const lines = rt.stderr.text().split("\n");
  expect(lines[0]).toMatch(/^To sign in, use a web browser/);
  // Upstream's step: with no record the prompt is azidentity's Authenticate (compat spec §1.3 item 8);
  // its text is Go's context error behind the credential's name, and the plain words are the hint.
  expect(lines[1]).toBe("Error: failed to authenticate: DeviceCodeCredential: context deadline exceeded");
  expect(lines[2]).toBe(
    "hint: the device-code sign-in was not completed within 2s (--timeout): open the page and enter the code sooner, or allow more time with --timeout (or AZURE_CLI_TIMEOUT)",
  );
  expect(rt.stdout.text()).toBe("");
});

test("a declined sign-in is Entra's error with a hint, on one Error line", async () => {
  entra.users.deviceCode = { ...entra.users.deviceCode, outcome: "decline" };
  const rt = testRuntime();
  expect(await run(args(), rt)).toBe(1);
  const lines = rt.stderr.text().split("\n");
  expect(lines[1]).toBe("Error: failed to authenticate: authorization_declined: AADSTS70000: The user has declined the authorization request.");
  expect(lines[2]).toMatch(/^hint: the sign-in was declined/);
});

test("with a saved sign-in, a failed new prompt is reported as upstream's GetToken failure", async () => {
  entra.users.tokenLifetimeSeconds = 301;
  expect(await run(args(), testRuntime())).toBe(0);
  await sleep(SHORT_LIVED_WAIT_MS);
  entra.users.revokeRefreshTokens();
  entra.users.deviceCode = { ...entra.users.deviceCode, outcome: "decline" };
  const rt = testRuntime();
  expect(await run(args(), rt)).toBe(1);
  const lines = rt.stderr.text().split("\n");
  expect(lines[0]).toMatch(/^The saved sign-in for alice@contoso.example can no longer be used/);
  expect(lines[2]).toBe("Error: failed to get token: authorization_declined: AADSTS70000: The user has declined the authorization request.");
});

test("once the access token is too old the refresh token is used, without a prompt", async () => {
  entra.users.tokenLifetimeSeconds = 301;
  expect(await run(args(), testRuntime())).toBe(0);
  const prompts = deviceCodeRequests();
  const refreshes = entra.grantCount("refresh_token");
  await sleep(SHORT_LIVED_WAIT_MS);
  const rt = testRuntime();
  expect(await run(args(), rt)).toBe(0);
  expect(rt.stderr.text()).toBe("");
  expect(entra.grantCount("refresh_token") - refreshes).toBe(1);
  expect(deviceCodeRequests()).toBe(prompts);
  expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
});

test("a revoked refresh token is said in one line, then the device code is asked again", async () => {
  entra.users.tokenLifetimeSeconds = 301;
  expect(await run(args(), testRuntime())).toBe(0);
  await sleep(SHORT_LIVED_WAIT_MS);
  entra.users.revokeRefreshTokens();
  const rt = testRuntime();
  expect(await run(args(), rt), rt.stderr.text()).toBe(0);
  const lines = rt.stderr.text().split("\n");
  expect(lines[0]).toMatch(/^The saved sign-in for alice@contoso.example can no longer be used \(AADSTS700082: The refresh token has expired due to inactivity\..*\); signing in again\.$/);
  expect(lines[1]).toBe(entra.users.messages.at(-1));
  expect(lines).toHaveLength(3);
});

test("a Conditional Access claims challenge on refresh: stderr says why, and the new device-code sign-in carries the claims", async () => {
  const claims = '{"access_token":{"capolids":{"essential":true,"values":["c1a2b3c4-0000-4000-8000-00000000ca01"]}}}';
  entra.users.tokenLifetimeSeconds = 301;
  expect(await run(args(), testRuntime())).toBe(0);
  await sleep(SHORT_LIVED_WAIT_MS);
  entra.users.claimsChallenge = claims;
  const before = entra.requests.length;
  const rt = testRuntime();
  try {
    expect(await run(args(), rt), rt.stderr.text()).toBe(0);
  } finally {
    entra.users.claimsChallenge = undefined;
  }
  const lines = rt.stderr.text().split("\n");
  expect(lines[0]).toMatch(/^A Conditional Access policy asks for more than the saved sign-in for alice@contoso.example gave \(AADSTS50076: Due to a configuration change .*\); signing in again to satisfy it\.$/);
  expect(lines[1]).toBe(entra.users.messages.at(-1));
  const made = entra.requests.slice(before);
  const deviceCode = made.filter((r) => r.path.endsWith("/oauth2/v2.0/devicecode"));
  expect(deviceCode).toHaveLength(1);
  // msal-node adds id_token claims of its own to some requests; the challenge's must be there whole.
  const challenged = (form: Record<string, string>): unknown => (JSON.parse(form.claims ?? "{}") as { access_token?: unknown }).access_token;
  expect(challenged(deviceCode[0]!.form)).toEqual(JSON.parse(claims).access_token);
  const polls = made.filter((r) => r.form.grant_type === DEVICE_CODE_GRANT);
  expect(polls.length).toBeGreaterThan(0);
  for (const poll of polls) expect(challenged(poll.form)).toEqual(JSON.parse(claims).access_token);
});

test("a record for another tenant does not pick the account, and a corrupt auth.json is replaced", async () => {
  await writeFile(join(cacheDir, "auth.json"), JSON.stringify({
    authority: entra.url.replace(/\/$/, ""), clientId: CLIENT, homeAccountId: `someone-else.${OTHER_TENANT}`, tenantId: OTHER_TENANT, username: "bob@fabrikam.example", version: "1.0",
  }));
  const before = deviceCodeRequests();
  expect(await run(args(), testRuntime())).toBe(0);
  expect(deviceCodeRequests() - before).toBe(1);
  expect(JSON.parse(await readFile(join(cacheDir, "auth.json"), "utf8"))).toMatchObject({ tenantId: TENANT, username: USER.username });

  await writeFile(join(cacheDir, "auth.json"), "{not json");
  const fresh = await mkdtemp(join(tmpdir(), "kubelogin-devicecode-corrupt-"));
  await writeFile(join(fresh, "auth.json"), "{not json");
  cacheDir = fresh;
  expect(await run(args(), testRuntime())).toBe(0);
  expect(JSON.parse(await readFile(join(fresh, "auth.json"), "utf8"))).toMatchObject({ tenantId: TENANT, version: "1.0" });
});

test("two tenants signed in at once through one cache dir both stay signed in (the MSAL blob is merged)", async () => {
  entra.users.tokenLifetimeSeconds = 301;
  entra.users.deviceCode = { ...entra.users.deviceCode, pendingPolls: 1, interval: 1 };
  const [a, b] = [testRuntime(), testRuntime()];
  expect(await Promise.all([run(args([], TENANT), a), run(args([], OTHER_TENANT), b)])).toEqual([0, 0]);
  expect(tokenOf(a.stdout.text())).not.toBe(tokenOf(b.stdout.text()));
  await sleep(SHORT_LIVED_WAIT_MS);
  const prompts = deviceCodeRequests();
  const refreshes = entra.grantCount("refresh_token");
  const [c, d] = [testRuntime(), testRuntime()];
  expect(await run(args([], TENANT), c)).toBe(0);
  expect(await run(args([], OTHER_TENANT), d)).toBe(0);
  expect(c.stderr.text() + d.stderr.text()).toBe("");
  expect(deviceCodeRequests()).toBe(prompts);
  expect(entra.grantCount("refresh_token") - refreshes).toBe(2);
});
