// What every user sign-in does around its prompt, seen at -v 5 through device code in-process
// against the fake Entra ID (MSAL is real): the lines that say which way the sign-in went.
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const USER = { username: "dave@contoso.example", password: "unused-here" };

let entra: FakeEntra;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [] });
  entra.users.addPublicClient(CLIENT);
  entra.users.addUser(USER);
});
afterAll(async () => {
  await entra.close();
});

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-user-sign-in-mutants-"));
  entra.users.deviceCode = { user: USER.username, slowDownPolls: 0, pendingPolls: 0, outcome: "approve", interval: 0 };
  entra.users.tokenLifetimeSeconds = 3600;
});

const args = (extra: string[] = []): string[] => [
  "get-token", "-l", "devicecode", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", TENANT,
  "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra,
];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The -v lines of kubelogin's own, without their glog prefix, that speak of the sign-in. */
const signInLines = (stderr: string): string[] =>
  stderr
    .split("\n")
    .map((line) => /^I\d{4} [\d:.]+ +\d+ kubelogin\] (.*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined && !/^(options|cache backend|long-lived cache entries|serving)/.test(line));

const SCOPE = `${SERVER_ID}/.default`;

test("the first sign-in says it has no record and prompts; a later one refreshes the saved account silently", async () => {
  entra.users.tokenLifetimeSeconds = 301;
  const first = testRuntime();
  expect(await run(args(["-v", "5"]), first)).toBe(0);
  expect(signInLines(first.stderr.text())).toEqual(["using credential: DeviceCodeCredential", "no stored record; calling Authenticate"]);
  expect(first.stderr.text().trimEnd().split("\n").at(-1)).toBe(entra.users.messages.at(-1));

  await sleep(2_200);
  const second = testRuntime();
  expect(await run(args(["-v", "5"]), second)).toBe(0);
  expect(signInLines(second.stderr.text())).toEqual(["using credential: DeviceCodeCredential", `getting token with scopes: [${SCOPE}] for the saved account`]);
});

test("a record whose account MSAL no longer knows says so, and the new prompt is GetToken's step", async () => {
  expect(await run(args(), testRuntime())).toBe(0);
  const record = JSON.parse(await readFile(join(cacheDir, "auth.json"), "utf8")) as { homeAccountId: string };
  for (const name of await readdir(cacheDir)) if (name === "msal-user-cache.json" || name.startsWith("token-")) await rm(join(cacheDir, name));
  entra.users.deviceCode = { ...entra.users.deviceCode, outcome: "decline" };
  const rt = testRuntime();
  expect(await run(args(["-v", "5"]), rt)).toBe(1);
  expect(signInLines(rt.stderr.text())).toEqual(["using credential: DeviceCodeCredential", `the saved account ${record.homeAccountId} is not in the MSAL cache`]);
  expect(rt.stderr.text()).toContain("\nError: failed to get token: authorization_declined: AADSTS70000: The user has declined the authorization request.\n");
});

test("ropc never looks for a record, so it does not say it has none", async () => {
  entra.users.addPublicClient(CLIENT);
  const rt = testRuntime();
  expect(await run(["get-token", "-l", "ropc", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", TENANT, "--authority-host", entra.url, "--cache-dir", cacheDir, "--username", USER.username, "--password", USER.password, "-v", "5"], rt)).toBe(0);
  expect(signInLines(rt.stderr.text())).toEqual(["using credential: UsernamePasswordCredential"]);
});

test("a record that cannot be written is a warning: the sign-in that just succeeded still gives its token", async () => {
  await mkdir(join(cacheDir, "auth.json"));
  const rt = testRuntime();
  expect(await run(args(), rt)).toBe(0);
  const lines = rt.stderr.text().trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toBe(entra.users.messages.at(-1));
  expect(lines[1]).toMatch(new RegExp(`^W\\d{4} [\\d:.]+ +\\d+ kubelogin\\] failed to store record: could not write ${join(cacheDir, "auth.json")}: `));
  expect(JSON.parse(rt.stdout.text()).status.token).toBe(entra.issuedTokens.at(-1));
});

test("a refresh that fails for another reason than the saved sign-in is reported at GetToken, with no new prompt; one without an AADSTS code is named by its error", async () => {
  entra.users.tokenLifetimeSeconds = 301;
  expect(await run(args(), testRuntime())).toBe(0);
  await sleep(2_200);
  entra.failNext(400, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." });
  const prompts = entra.users.messages.length;
  const rt = testRuntime();
  expect(await run(args(), rt)).toBe(1);
  expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to get token: invalid_client: AADSTS7000215: Invalid client secret provided.");
  expect(entra.users.messages.length).toBe(prompts);

  entra.failNext(400, { error: "invalid_grant", error_description: "the grant is gone\r\n  for good" });
  const again = testRuntime();
  expect(await run(args(), again), again.stderr.text()).toBe(0);
  expect(again.stderr.text().split("\n")[0]).toBe("The saved sign-in for dave@contoso.example can no longer be used (invalid_grant); signing in again.");
});
