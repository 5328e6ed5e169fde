// get-token -l azd in-process, with a fake `azd` first on PATH (compat spec §3.10, decisions 2
// and 11): argv, output parsing, upstream's error texts with hints, and the cache keyed by azd's
// signed-in identity (auth.json, config.json, and az's identity when azd delegates to az).
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { parseAzdOutput } from "../../src/login/azd.js";
import { installFakeCli, type FakeCli } from "../fakes/fake-cli.js";
import { testRuntime } from "../support/runtime.js";

// The CLIs' tokens below expire in 2031; the cache refuses expiries more than a year ahead of its clock.
const NOW = "2031-05-06T06:00:00Z";
const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

let root: string;
let azdConfigDir: string;
let azConfigDir: string;
let cacheDir: string;
let azd: FakeCli;

const azdToken = (token: string) => JSON.stringify({ token, expiresOn: "2031-05-06T07:08:09Z" });
const currentUser = (clientId: string) => ({ auth: { account: { currentUser: { clientId, tenantId: TENANT } } } });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "kubelogin-azd-"));
  azdConfigDir = join(root, "azd-config");
  azConfigDir = join(root, "az-config");
  cacheDir = join(root, "cache");
  await mkdir(azdConfigDir, { recursive: true });
  await mkdir(azConfigDir, { recursive: true });
  await writeFile(join(azdConfigDir, "auth.json"), JSON.stringify(currentUser("app-1")));
  azd = await installFakeCli("azd", root, { kind: "print", stdout: azdToken("azd-token-1") });
});

async function getToken(args: string[] = [], env: Record<string, string> = {}) {
  const rt = testRuntime({ now: NOW, env: { PATH: `${azd.binDir}:/usr/bin:/bin`, AZD_CONFIG_DIR: azdConfigDir, AZURE_CONFIG_DIR: azConfigDir, ...env } });
  const code = await run(["get-token", "-l", "azd", "--server-id", SERVER_ID, "--cache-dir", cacheDir, ...args], rt);
  const stdout = rt.stdout.text();
  return { code, stderr: rt.stderr.text(), status: stdout ? (JSON.parse(stdout) as { status: { token: string; expirationTimestamp: string } }).status : undefined };
}

test("azd auth token -o json [--tenant-id T] --scope <server-id>/.default; --subscription is not passed", async () => {
  const plain = await getToken();
  expect(plain.stderr).toBe("");
  expect(plain.status).toEqual({ token: "azd-token-1", expirationTimestamp: "2031-05-06T07:08:09Z" });
  await getToken(["--server-id", "https://aks.example/", "--tenant-id", TENANT, "--subscription", "sub-a"]);
  const runs = await azd.runs();
  expect(runs.map((r) => r.argv)).toEqual([
    ["auth", "token", "-o", "json", "--scope", `${SERVER_ID}/.default`],
    ["auth", "token", "-o", "json", "--tenant-id", TENANT, "--scope", "https://aks.example/.default"],
  ]);
  expect(runs[0]!.env.AZD_CONFIG_DIR).toBe(azdConfigDir);
});

test.each([
  ["2031-05-06T07:08:09Z", Date.UTC(2031, 4, 6, 7, 8, 9)],
  ["2031-05-06T07:08:09.123Z", Date.UTC(2031, 4, 6, 7, 8, 9, 123)],
])("expiresOn %s is UTC", (expiresOn, expected) => {
  expect(parseAzdOutput(JSON.stringify({ token: "t", expiresOn }))).toEqual({ token: "t", expiresOn: expected });
});

test.each(["2031-05-06 07:08:09", "2031-02-30T07:08:09Z", "2031-05-06T07:08:09+02:00", ""])("expiresOn %j is an error", (expiresOn) => {
  expect(() => parseAzdOutput(JSON.stringify({ token: "secret-token", expiresOn }))).toThrow(
    `AzureDeveloperCLICredential: error parsing token expiration time ${JSON.stringify(expiresOn)}: expected YYYY-MM-DDTHH:MM:SSZ`,
  );
});

describe("failures", () => {
  test("azd not on PATH", async () => {
    const result = await getToken([], { PATH: "/nonexistent-dir" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "Error: failed to get token: AzureDeveloperCLICredential: Azure Developer CLI not found on path\n" +
        "hint: install the Azure Developer CLI (https://aka.ms/azd-install), or add the directory holding azd to the PATH kubectl runs kubelogin with\n",
    );
  });

  test("stderr naming `azd auth login` becomes the SDK's sentence, with a hint naming the config dir", async () => {
    await azd.behave({ kind: "fail", stderr: "ERROR: fetching token: not logged in, run `azd auth login` to login\n", exitCode: 1 });
    const result = await getToken();
    expect(result.stderr).toBe(
      'Error: failed to get token: AzureDeveloperCLICredential: please run "azd auth login" from a command prompt to authenticate before using this credential\n' +
        `hint: run "azd auth login" as this user; the azd config dir is ${azdConfigDir} (AZD_CONFIG_DIR changes it)\n`,
    );
  });

  test("other failures are azd's stderr", async () => {
    await azd.behave({ kind: "fail", stderr: "ERROR: AADSTS500011: resource principal not found\n", exitCode: 1 });
    expect((await getToken()).stderr).toBe("Error: failed to get token: AzureDeveloperCLICredential: ERROR: AADSTS500011: resource principal not found\n");
  });

  test("an invalid tenant or scope stops before azd runs", async () => {
    expect((await getToken(["--tenant-id", "a b"])).stderr.split("\n")[0]).toBe(
      "Error: failed to create azidentity credential: failed to create azure developer cli credential: invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names",
    );
    expect((await getToken(["--server-id", "a&b"])).stderr.split("\n")[0]).toBe(
      'Error: failed to get token: AzureDeveloperCLICredential.GetToken(): invalid scope "a&b/.default"',
    );
    expect(await azd.runs()).toEqual([]);
  });
});

describe("the cache, keyed by azd's signed-in identity (decision 11)", () => {
  test("a second call does not run azd", async () => {
    await getToken();
    await azd.behave({ kind: "print", stdout: azdToken("azd-token-2") });
    expect((await getToken()).status!.token).toBe("azd-token-1");
    expect(await azd.runs()).toHaveLength(1);
  });

  test.each([
    ["azd auth login as another principal (auth.json)", () => writeFile(join(azdConfigDir, "auth.json"), JSON.stringify(currentUser("app-2")))],
    ["azd auth logout (auth.json without a current user)", () => writeFile(join(azdConfigDir, "auth.json"), JSON.stringify({ auth: { account: {} } }))],
    ["azd config set (config.json)", () => writeFile(join(azdConfigDir, "config.json"), JSON.stringify({ cloud: { name: "AzureUSGovernment" } }))],
  ])("%s: the next call runs azd again", async (_name, change) => {
    await getToken();
    await change();
    await azd.behave({ kind: "print", stdout: azdToken("azd-token-2") });
    expect((await getToken()).status!.token).toBe("azd-token-2");
    expect((await getToken()).status!.token).toBe("azd-token-2");
    expect(await azd.runs()).toHaveLength(2);
  });

  test("with auth.useAzCliAuth azd asks az, so az's sign-in state counts too", async () => {
    const writeAzProfile = (user: string) => writeFile(join(azConfigDir, "azureProfile.json"), JSON.stringify({ subscriptions: [{ id: "s", isDefault: true, user: { name: user } }] }));
    await writeAzProfile("alice");
    await getToken();
    await writeAzProfile("bob");
    await getToken();
    expect(await azd.runs()).toHaveLength(1);

    await writeFile(join(azdConfigDir, "config.json"), JSON.stringify({ auth: { useAzCliAuth: "true" } }));
    await getToken();
    await writeAzProfile("carol");
    await getToken();
    await getToken();
    expect(await azd.runs()).toHaveLength(3);
  });
});
