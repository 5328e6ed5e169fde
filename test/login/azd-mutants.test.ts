// azd at its edges: the exact cache key and inputs of the plan (auth.json, config.json, and az's
// identity only when azd hands the request to az, as Go's ParseBool reads the switch), the -v 5
// line, azd's output shapes that are no token, and its failures without words. azd is a fake on PATH.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { run } from "../../src/cli/run.js";
import { azd, parseAzdOutput } from "../../src/login/azd.js";
import { azIdentity } from "../../src/login/azurecli.js";
import type { PlanContext } from "../../src/login/types.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions, type Env } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { installFakeCli, type FakeCli } from "../fakes/fake-cli.js";
import { testRuntime } from "../support/runtime.js";

const NOW = "2031-05-06T06:00:00Z";
const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AUTH = JSON.stringify({ auth: { account: { currentUser: { clientId: "app-1", tenantId: TENANT } } } });
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "kubelogin-azd-mutants-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let azdConfigDir: string;
let azConfigDir: string;
beforeEach(async () => {
  const dir = await mkdtemp(join(root, "case-"));
  azdConfigDir = join(dir, "azd-config");
  azConfigDir = join(dir, "az-config");
  await mkdir(azdConfigDir, { recursive: true });
  await mkdir(azConfigDir, { recursive: true });
  await writeFile(join(azdConfigDir, "auth.json"), AUTH);
});

async function planFor(args: readonly string[] = []) {
  const env: Env = { AZD_CONFIG_DIR: azdConfigDir, AZURE_CONFIG_DIR: azConfigDir };
  const { options, provenance } = resolveOptions(parseFlags(["-l", "azd", "--server-id", SERVER_ID, ...args], GET_TOKEN_OPTIONS), env, "/home/test");
  const context: PlanContext = { env, homedir: "/home/test", cacheDir: root, state: createFileStore({ dir: root, now: Date.now, owns: () => true }) };
  return azd.plan(validateOptions(options, provenance), context);
}

describe("the plan", () => {
  test("scope, tenant, config dir and the two files' hashes; both files are inputs; no warnings", async () => {
    const plan = await planFor(["--tenant-id", TENANT]);
    expect(plan.cacheKey).toEqual(["azd", `${SERVER_ID}/.default`, TENANT, azdConfigDir, `auth.json=${sha256(AUTH)}`, "config.json=absent"]);
    expect(plan.inputs).toEqual([join(azdConfigDir, "auth.json"), join(azdConfigDir, "config.json")]);
    expect(plan.warnings).toEqual([]);
    expect((await planFor()).cacheKey[2]).toBe("");
  });

  test.each(["1", "t", "T", "TRUE", "true", "True"])("useAzCliAuth %j adds az's identity", async (value) => {
    const config = JSON.stringify({ auth: { useAzCliAuth: value } });
    await writeFile(join(azdConfigDir, "config.json"), config);
    const az = await azIdentity({ AZD_CONFIG_DIR: azdConfigDir, AZURE_CONFIG_DIR: azConfigDir }, "/home/test");
    const plan = await planFor();
    expect(plan.cacheKey).toEqual(["azd", `${SERVER_ID}/.default`, "", azdConfigDir, `auth.json=${sha256(AUTH)}`, `config.json=${sha256(config)}`, "useAzCliAuth", ...az.fingerprint]);
    expect(plan.inputs).toEqual([join(azdConfigDir, "auth.json"), join(azdConfigDir, "config.json"), ...az.files]);
  });

  test.each([
    ["false", JSON.stringify({ auth: { useAzCliAuth: "false" } })],
    ["yes", JSON.stringify({ auth: { useAzCliAuth: "yes" } })],
    ["a JSON true, which ParseBool never sees", JSON.stringify({ auth: { useAzCliAuth: true } })],
    ["no auth section", JSON.stringify({ cloud: {} })],
    ["JSON null", "null"],
    ["broken JSON", "{"],
  ])("useAzCliAuth from %s does not", async (_name, config) => {
    await writeFile(join(azdConfigDir, "config.json"), config);
    const plan = await planFor();
    expect(plan.cacheKey).toEqual(["azd", `${SERVER_ID}/.default`, "", azdConfigDir, `auth.json=${sha256(AUTH)}`, `config.json=${sha256(config)}`]);
    expect(plan.inputs).toHaveLength(2);
  });
});

describe("running azd", () => {
  let fake: FakeCli;
  beforeEach(async () => {
    fake = await installFakeCli("azd", await mkdtemp(join(root, "bin-")), { kind: "print", stdout: JSON.stringify({ token: "t", expiresOn: "2031-05-06T07:08:09Z" }) });
  });

  async function getToken(...args: string[]) {
    const rt = testRuntime({ now: NOW, env: { PATH: `${fake.binDir}:/usr/bin:/bin`, AZD_CONFIG_DIR: azdConfigDir, AZURE_CONFIG_DIR: azConfigDir } });
    const code = await run(["get-token", "-l", "azd", "--server-id", SERVER_ID, "--cache-dir", join(azdConfigDir, "cache"), ...args], rt);
    return { code, stderr: rt.stderr.text() };
  }

  test("-v 5 names the credential", async () => {
    const { code, stderr } = await getToken("-v", "5");
    expect(code).toBe(0);
    expect(stderr).toContain("using credential: AzureDeveloperCLICredential");
  });

  test("a failure without words is its exit status", async () => {
    await fake.behave({ kind: "fail", stderr: "", exitCode: 3 });
    const { code, stderr } = await getToken();
    expect(code).toBe(1);
    expect(stderr).toBe("Error: failed to get token: AzureDeveloperCLICredential: exit status 3\n");
  });

  test("output without a token is named, without quoting it", async () => {
    await fake.behave({ kind: "print", stdout: JSON.stringify({ token: "", expiresOn: "2031-05-06T07:08:09Z" }) });
    expect((await getToken()).stderr).toBe("Error: failed to get token: AzureDeveloperCLICredential: the output of azd has no token\n");
  });
});

describe("azd's output", () => {
  test.each([
    ["no token", { expiresOn: "2031-05-06T07:08:09Z" }],
    ["a token that is not text", { token: 1, expiresOn: "2031-05-06T07:08:09Z" }],
  ])("%s", (_name, out) => {
    expect(() => parseAzdOutput(JSON.stringify(out))).toThrow("AzureDeveloperCLICredential: the output of azd has no token");
  });

  test.each([
    [{ token: "t", expiresOn: 1 }, ""],
    [{ token: "t" }, ""],
    [{ token: "t", expiresOn: "x2031-05-06T07:08:09Z" }, "x2031-05-06T07:08:09Z"],
    [{ token: "t", expiresOn: "2031-05-06T07:08:09Zx" }, "2031-05-06T07:08:09Zx"],
    [{ token: "t", expiresOn: "2031-05-06T07:08:09.Z" }, "2031-05-06T07:08:09.Z"],
  ])("%j: the expiry is refused", (out, text) => {
    expect(() => parseAzdOutput(JSON.stringify(out))).toThrow(`AzureDeveloperCLICredential: error parsing token expiration time ${JSON.stringify(text)}: expected YYYY-MM-DDTHH:MM:SSZ`);
  });
});

describe("defaults", () => {
  test("without AZD_CONFIG_DIR the config dir is ~/.azd", async () => {
    const env: Env = { AZURE_CONFIG_DIR: azConfigDir };
    const { options, provenance } = resolveOptions(parseFlags(["-l", "azd", "--server-id", SERVER_ID], GET_TOKEN_OPTIONS), env, "/home/test");
    const context: PlanContext = { env, homedir: "/home/test", cacheDir: root, state: createFileStore({ dir: root, now: Date.now, owns: () => true }) };
    const plan = await azd.plan(validateOptions(options, provenance), context);
    expect(plan.cacheKey).toEqual(["azd", `${SERVER_ID}/.default`, "", "/home/test/.azd", "auth.json=absent", "config.json=absent"]);
  });

  test("an invalid scope says which characters it may hold; the mode", async () => {
    const fake = await installFakeCli("azd", await mkdtemp(join(root, "bin-")), { kind: "print", stdout: "{}" });
    const rt = testRuntime({ now: NOW, env: { PATH: `${fake.binDir}:/usr/bin:/bin`, AZD_CONFIG_DIR: azdConfigDir } });
    expect(await run(["get-token", "-l", "azd", "--server-id", "a b", "--cache-dir", join(azdConfigDir, "cache")], rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[1]).toBe("hint: --server-id may hold only letters, digits and the characters . - _ / :");
    expect(azd.mode).toBe("azd");
  });
});
