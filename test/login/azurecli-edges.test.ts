// get-token -l azurecli at its edges, with a fake `az` first on PATH: the hints of upstream's
// checks, the plan's exact key and inputs, az's answers that carry no usable token or expiry,
// az's advice to run `az account set`, -v 5, and --timeout while az hangs.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { run } from "../../src/cli/run.js";
import { azIdentity, azurecli, parseAzOutput } from "../../src/login/azurecli.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { installFakeCli, type FakeCli } from "../fakes/fake-cli.js";
import { testRuntime } from "../support/runtime.js";

const NOW = "2031-05-06T06:00:00Z";
const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const EXPIRES_ON = Date.parse("2031-05-06T07:08:09Z") / 1000;
const LOCAL_EXPIRY = "2031-05-06 08:00:00.000000";

let root: string;
let configDir: string;
let cacheDir: string;
let az: FakeCli;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "kubelogin-azurecli-edges-"));
  configDir = join(root, "azure-config");
  cacheDir = join(root, "cache");
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, "azureProfile.json"), JSON.stringify({ subscriptions: [] }));
  az = await installFakeCli("az", root, { kind: "print", stdout: JSON.stringify({ accessToken: "az-token", expires_on: EXPIRES_ON }) });
});

const env = (): Record<string, string> => ({ PATH: `${az.binDir}:/usr/bin:/bin`, AZURE_CONFIG_DIR: configDir });

async function getToken(args: string[] = []) {
  const rt = testRuntime({ now: NOW, env: env() });
  const code = await run(["get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir, ...args], rt);
  return { code, stderr: rt.stderr.text(), stdout: rt.stdout.text() };
}

describe("upstream's checks say what to pass instead", () => {
  test.each([
    [["--subscription", "Prod (EU)"], "hint: pass the subscription's ID with --subscription (az account list -o table shows it)"],
    [["--tenant-id", "bad/tenant"], "hint: --tenant-id takes a tenant ID (a GUID) or a domain name such as contoso.onmicrosoft.com"],
    [["--server-id", "api://aks server"], "hint: --server-id may hold only letters, digits and the characters . - _ / :"],
  ])("%j", async (args, hint) => {
    const result = await getToken(args);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")[1]).toBe(hint);
  });

  test("a subscription of letters, digits, spaces, dots, dashes and underscores is passed on", async () => {
    expect((await getToken(["--subscription", "My_Sub-1.0 x"])).code).toBe(0);
    expect((await az.runs())[0]!.argv.slice(-2)).toEqual(["--subscription", "My_Sub-1.0 x"]);
  });
});

test("the plan: keyed by resource, tenant, subscription and az's identity; az's profile and config are its inputs", async () => {
  const argv = ["-l", "azurecli", "--server-id", `${SERVER_ID}`, "--tenant-id", TENANT, "--subscription", "sub"];
  const { options, provenance } = resolveOptions(parseFlags(argv, GET_TOKEN_OPTIONS), env(), "/home/test");
  const context = { env: env(), homedir: "/home/test", cacheDir, state: createFileStore({ dir: cacheDir, now: Date.now, owns: () => true }) };
  const plan = await azurecli.plan(validateOptions(options, provenance), context);
  const identity = await azIdentity(env(), "/home/test");
  expect(plan.cacheKey).toEqual(["azurecli", SERVER_ID, TENANT, "sub", ...identity.fingerprint]);
  expect(identity.fingerprint[0]).toBe(configDir);
  expect(identity.fingerprint.at(-1)).toBe("AZURE_CLOUD_NAME=");
  expect((await azIdentity({ ...env(), AZURE_CLOUD_NAME: "AzureChinaCloud" }, "/home/test")).fingerprint.at(-1)).toBe("AZURE_CLOUD_NAME=AzureChinaCloud");
  expect(plan.inputs).toEqual([join(configDir, "azureProfile.json"), join(configDir, "config")]);
  expect(plan.warnings).toEqual([]);
  expect(azurecli.mode).toBe("azurecli");
});

describe("az's answer", () => {
  test.each([
    ["no accessToken", { expires_on: EXPIRES_ON }],
    ["an empty accessToken", { accessToken: "", expires_on: EXPIRES_ON }],
    ["a numeric accessToken", { accessToken: 5, expires_on: EXPIRES_ON }],
  ])("%s is an error", (_, body) => {
    expect(() => parseAzOutput(JSON.stringify(body))).toThrow(/^AzureCLICredential: the output of az has no accessToken$/);
  });

  test.each([
    ["0", 0],
    ["a fraction", EXPIRES_ON + 0.5],
    ["a string", String(EXPIRES_ON)],
  ])("expires_on that is %s falls back to expiresOn", (_, expiresOnSeconds) => {
    const out = parseAzOutput(JSON.stringify({ accessToken: "t", expires_on: expiresOnSeconds, expiresOn: LOCAL_EXPIRY }));
    expect(out).toEqual({ token: "t", expiresOn: new Date(2031, 4, 6, 8, 0, 0).getTime() });
  });

  test("without either expiry, the error quotes an empty expiresOn", () => {
    expect(() => parseAzOutput(JSON.stringify({ accessToken: "t", expiresOn: 5 }))).toThrow(
      'AzureCLICredential: error parsing token expiration time "": expected expires_on (Unix seconds) or expiresOn as local time YYYY-MM-DD HH:MM:SS[.ffffff]',
    );
  });
});

test("az's advice to run `az account set` gets the sign-in hint", async () => {
  await az.behave({ kind: "fail", stderr: "ERROR: The subscription of 'x' doesn't exist in cloud 'AzureCloud'. Run `az account set` to select one.\n", exitCode: 1 });
  const result = await getToken();
  expect(result.stderr.split("\n")[1]).toBe(`hint: run "az login" as this user; the Azure CLI config dir is ${configDir} (AZURE_CONFIG_DIR changes it)`);
});

test("-v 5 names the credential", async () => {
  const result = await getToken(["-v", "5"]);
  expect(result.code).toBe(0);
  expect(result.stderr).toContain("using credential: AzureCLICredential\n");
});

test("--timeout while az hangs is the run's timeout, not az's failure", async () => {
  await az.behave({ kind: "hang" });
  const rt = testRuntime({ env: env() });
  expect(await run(["get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir, "--timeout", "1s"], rt)).toBe(1);
  expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to get token: context deadline exceeded");
});
