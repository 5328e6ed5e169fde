// get-token -l azurecli in-process, with a fake `az` first on PATH (compat spec §3.9, decisions 2
// and 11): the exact argv, env and working directory az gets, both expiry shapes, upstream's
// checks and error texts with hints, and the cache keyed by az's signed-in identity.
import { realpathSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { parseAzOutput, parseLocalDateTime } from "../../src/login/azurecli.js";
import { installFakeCli, type FakeCli } from "../fakes/fake-cli.js";
import { testRuntime } from "../support/runtime.js";

// The CLIs' tokens below expire in 2031; the cache refuses expiries more than a year ahead of its clock.
const NOW = "2031-05-06T06:00:00Z";
const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const EXPIRES_ON = Date.parse("2031-05-06T07:08:09Z") / 1000;

const profile = (user: string, defaultSubscription = "sub-a") => ({
  installationId: "0b3a2c9e-1111-2222-3333-444455556666",
  subscriptions: ["sub-a", "sub-b"].map((id) => ({
    id,
    name: `Subscription ${id}`,
    state: "Enabled",
    user: { name: user, type: "user" },
    isDefault: id === defaultSubscription,
    tenantId: TENANT,
    environmentName: "AzureCloud",
  })),
});

let root: string;
let configDir: string;
let cacheDir: string;
let az: FakeCli;

const azToken = (token: string, extra: Record<string, unknown> = { expires_on: EXPIRES_ON }) =>
  JSON.stringify({ accessToken: token, expiresOn: "2031-05-06 07:08:09.000000", subscription: "sub-a", tenant: TENANT, tokenType: "Bearer", ...extra });

async function writeProfile(dir: string, content: object): Promise<void> {
  await mkdir(dir, { recursive: true });
  // az writes it with a byte order mark.
  await writeFile(join(dir, "azureProfile.json"), `\uFEFF${JSON.stringify(content)}`);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "kubelogin-azurecli-"));
  configDir = join(root, "azure-config");
  cacheDir = join(root, "cache");
  await writeProfile(configDir, profile("alice@contoso.com"));
  az = await installFakeCli("az", root, { kind: "print", stdout: azToken("az-token-1") });
});

function runtime(env: Record<string, string> = {}) {
  return testRuntime({ now: NOW, env: { PATH: `${az.binDir}:/usr/bin:/bin`, AZURE_CONFIG_DIR: configDir, ...env } });
}

async function getToken(args: string[] = [], env: Record<string, string> = {}) {
  const rt = runtime(env);
  const code = await run(["get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir, ...args], rt);
  const stdout = rt.stdout.text();
  return { code, stderr: rt.stderr.text(), status: stdout ? (JSON.parse(stdout) as { status: { token: string; expirationTimestamp: string } }).status : undefined };
}

describe("the az command", () => {
  test("az account get-access-token -o json --resource <server-id>, in /bin, with the parent's environment", async () => {
    const result = await getToken([], { EXTRA_FROM_PARENT: "kept" });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.status).toEqual({ token: "az-token-1", expirationTimestamp: "2031-05-06T07:08:09Z" });
    const [first, ...more] = await az.runs();
    expect(more).toEqual([]);
    expect(first!.argv).toEqual(["account", "get-access-token", "-o", "json", "--resource", SERVER_ID]);
    // /bin is /usr/bin on merged-/usr systems: the fake sees the resolved path.
    expect(first!.cwd).toBe(realpathSync("/bin"));
    expect(first!.env.AZURE_CONFIG_DIR).toBe(configDir);
  });

  test("--tenant and --subscription follow when set; a subscription name with spaces stays one argument; the resource has no /.default", async () => {
    const result = await getToken(["--server-id", "https://aks.example/", "--tenant-id", TENANT, "--subscription", "My Dev Sub.1"]);
    expect(result.code).toBe(0);
    expect((await az.runs())[0]!.argv).toEqual([
      "account", "get-access-token", "-o", "json", "--resource", "https://aks.example", "--tenant", TENANT, "--subscription", "My Dev Sub.1",
    ]);
  });

  test("AZURE_TENANT_ID is the tenant too (environment beats flags, as upstream)", async () => {
    await getToken(["--tenant-id", "flag-tenant"], { AZURE_TENANT_ID: TENANT });
    expect((await az.runs())[0]!.argv.slice(-2)).toEqual(["--tenant", TENANT]);
  });
});

describe("az's output", () => {
  test("without expires_on the expiry is expiresOn read as local time", async () => {
    await az.behave({ kind: "print", stdout: azToken("local-time-token", { expiresOn: "2031-05-06 07:08:09.654321" }) });
    const result = await getToken();
    expect(result.code).toBe(0);
    expect(result.status!.expirationTimestamp).toBe(new Date(2031, 4, 6, 7, 8, 9).toISOString().replace(".000Z", "Z"));
  });

  test("expires_on wins over expiresOn", () => {
    const out = parseAzOutput(azToken("t", { expires_on: EXPIRES_ON, expiresOn: "1999-01-01 00:00:00.000000" }));
    expect(out).toEqual({ token: "t", expiresOn: EXPIRES_ON * 1000 });
  });

  test.each([
    ["2031-05-06 07:08:09", new Date(2031, 4, 6, 7, 8, 9).getTime()],
    ["2031-05-06 07:08:09.5", new Date(2031, 4, 6, 7, 8, 9, 500).getTime()],
    ["2031-05-06 07:08:09.999999", new Date(2031, 4, 6, 7, 8, 9, 999).getTime()],
    ["2031-02-30 07:08:09", undefined],
    ["2031-05-06 24:00:00", undefined],
    ["2031-05-06T07:08:09Z", undefined],
    ["", undefined],
  ])("local time %j → %s", (text, expected) => {
    expect(parseLocalDateTime(text)).toBe(expected);
  });

  test("output that is not JSON, or has no usable expiry, is an error that never quotes the token", async () => {
    await az.behave({ kind: "print", stdout: "secret-token-text-not-json" });
    const notJson = await getToken();
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toBe("Error: failed to get token: AzureCLICredential: the output of az is not valid JSON\n");

    await az.behave({ kind: "print", stdout: JSON.stringify({ accessToken: "secret-token", expiresOn: "tomorrow" }) });
    const badExpiry = await getToken();
    expect(badExpiry.stderr.split("\n")[0]).toBe(
      'Error: failed to get token: AzureCLICredential: error parsing token expiration time "tomorrow": expected expires_on (Unix seconds) or expiresOn as local time YYYY-MM-DD HH:MM:SS[.ffffff]',
    );
    expect(badExpiry.stderr).not.toContain("secret-token");
  });
});

describe("upstream's checks, before az runs", () => {
  test.each([
    [["--subscription", "Prod (EU)"], 'Error: failed to create azidentity credential: failed to create azure cli credential: AzureCLICredential: Subscription "Prod (EU)" contains invalid characters. If this is the name of a subscription, use its ID instead'],
    [["--subscription", "a;rm -rf ~"], 'Error: failed to create azidentity credential: failed to create azure cli credential: AzureCLICredential: Subscription "a;rm -rf ~" contains invalid characters. If this is the name of a subscription, use its ID instead'],
    [["--tenant-id", "bad/tenant"], "Error: failed to create azidentity credential: failed to create azure cli credential: invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names"],
    [["--server-id", "api://aks server"], 'Error: failed to get token: AzureCLICredential.GetToken(): invalid scope "api://aks server/.default"'],
    [["--server-id", "x$(id)"], 'Error: failed to get token: AzureCLICredential.GetToken(): invalid scope "x$(id)/.default"'],
  ])("%j", async (args, firstLine) => {
    const result = await getToken(args);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(firstLine);
    expect(lines[1]).toMatch(/^hint: /);
    expect(lines).toHaveLength(2);
    expect(await az.runs()).toEqual([]);
  });
});

describe("az failures", () => {
  test("az not on PATH: upstream's text and a hint, reported once and not as a cache problem", async () => {
    const result = await getToken([], { PATH: "/nonexistent-dir" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "Error: failed to get token: AzureCLICredential: Azure CLI not found on path\n" +
        "hint: install the Azure CLI (https://aka.ms/azure-cli), or add the directory holding az to the PATH kubectl runs kubelogin with\n",
    );
  });

  test("exit code 127 (a wrapper that cannot find az) means not found too", async () => {
    await az.behave({ kind: "fail", stderr: "az: line 3: python3: command not found\n", exitCode: 127 });
    const result = await getToken();
    expect(result.stderr.split("\n")[0]).toBe("Error: failed to get token: AzureCLICredential: Azure CLI not found on path");
  });

  test("not signed in: az's own words, and a hint naming the config dir", async () => {
    await az.behave({ kind: "fail", stderr: "ERROR: Please run 'az login' to setup account.\n", exitCode: 1 });
    const result = await getToken();
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "Error: failed to get token: AzureCLICredential: ERROR: Please run 'az login' to setup account.\n" +
        `hint: run "az login" as this user; the Azure CLI config dir is ${configDir} (AZURE_CONFIG_DIR changes it)\n`,
    );
  });

  test("any other failure is az's stderr, or the exit status when stderr is empty", async () => {
    await az.behave({ kind: "fail", stderr: "ERROR: AADSTS50173: The provided grant has expired.\n", exitCode: 1 });
    expect((await getToken()).stderr).toBe("Error: failed to get token: AzureCLICredential: ERROR: AADSTS50173: The provided grant has expired.\n");
    await az.behave({ kind: "fail", stderr: "", exitCode: 3 });
    expect((await getToken()).stderr).toBe("Error: failed to get token: AzureCLICredential: exit status 3\n");
  });
});

describe("the cache, keyed by az's signed-in identity (decision 11)", () => {
  test("a second call is served from the cache without running az", async () => {
    expect((await getToken()).status!.token).toBe("az-token-1");
    await az.behave({ kind: "print", stdout: azToken("az-token-2") });
    expect((await getToken()).status!.token).toBe("az-token-1");
    expect(await az.runs()).toHaveLength(1);
  });

  test.each([
    ["az account set (another default subscription)", () => writeProfile(configDir, profile("alice@contoso.com", "sub-b"))],
    ["az login as someone else", () => writeProfile(configDir, profile("bob@contoso.com"))],
    ["az logout", () => writeProfile(configDir, { installationId: "0b3a2c9e-1111-2222-3333-444455556666", subscriptions: [] })],
    ["az cloud set", () => writeFile(join(configDir, "config"), "[cloud]\nname = AzureUSGovernment\n")],
  ])("%s: the next call runs az again", async (_name, change) => {
    expect((await getToken()).status!.token).toBe("az-token-1");
    await change();
    await az.behave({ kind: "print", stdout: azToken("az-token-2") });
    expect((await getToken()).status!.token).toBe("az-token-2");
    expect(await az.runs()).toHaveLength(2);
    // …and the new state has its own entry: no third run.
    expect((await getToken()).status!.token).toBe("az-token-2");
    expect(await az.runs()).toHaveLength(2);
  });

  test("another AZURE_CONFIG_DIR, the default ~/.azure, AZURE_CLOUD_NAME, a tenant or a subscription is another identity", async () => {
    const rt = runtime();
    const home = rt.homedir;
    await writeProfile(join(home, ".azure"), profile("alice@contoso.com"));
    await getToken();
    await getToken([], { AZURE_CONFIG_DIR: join(home, ".azure") });
    // az would read the same files as the last call: a cached token, although the dir is given as ~/.azure.
    const tilde = testRuntime({ now: NOW, env: { PATH: `${az.binDir}:/usr/bin:/bin`, AZURE_CONFIG_DIR: "~/.azure" }, homedir: home });
    expect(await run(["get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir], tilde)).toBe(0);
    const unset = testRuntime({ now: NOW, env: { PATH: `${az.binDir}:/usr/bin:/bin` }, homedir: home });
    expect(await run(["get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir], unset)).toBe(0);
    expect(await az.runs()).toHaveLength(2);
    await getToken([], { AZURE_CLOUD_NAME: "AzureChinaCloud" });
    await getToken(["--tenant-id", TENANT]);
    await getToken(["--subscription", "sub-b"]);
    expect(await az.runs()).toHaveLength(5);
  });

  test("-v 9 shows the az command line, never the token", async () => {
    const rt = runtime();
    expect(await run(["get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir, "-v", "9"], rt)).toBe(0);
    expect(rt.stderr.text()).toContain(`running az account get-access-token -o json --resource ${SERVER_ID} in /bin`);
    expect(rt.stderr.text()).not.toContain("az-token-1");
  });
});
