// convert-kubeconfig end to end in-process: argv + env → files on disk, stdout always empty.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { convertKubeconfigCommand } from "../../src/cli/convert-kubeconfig.js";
import { run } from "../../src/cli/run.js";
import { ValidationError } from "../../src/errors.js";
import { ConvertError } from "../../src/kubeconfig/convert.js";
import { parseKubeconfig, type YamlMap } from "../../src/kubeconfig/model.js";
import type { Env } from "../../src/options/resolve.js";
import { AKS_CLIENT_ID, AKS_SERVER_ID, aksClusterYaml, aksDevicecodeUsersYaml } from "../fixtures/kubeconfigs.js";
import { testRuntime, type TestRuntime } from "../support/runtime.js";

const SERVER = AKS_SERVER_ID;
const AKS_CLIENT = AKS_CLIENT_ID;
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/** What `az aks get-credentials` writes for an Entra-enabled cluster (kubelogin exec, devicecode). */
const AKS_KUBECONFIG = aksClusterYaml({ server: "https://aks.hcp.eastus.azmk8s.io:443", caData: "LS0tCg==" }) + aksDevicecodeUsersYaml(TENANT);

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function setup(env: Env = {}, text = AKS_KUBECONFIG): Promise<{ rt: TestRuntime; config: string }> {
  const home = await mkdtemp(join(tmpdir(), "kubelogin-convert-cli-"));
  dirs.push(home);
  await mkdir(join(home, ".kube"));
  const config = join(home, ".kube", "config");
  await writeFile(config, text, { mode: 0o600 });
  return { rt: testRuntime({ env, homedir: home }), config };
}

async function execOf(config: string, user = "clusterUser_rg_aks"): Promise<YamlMap> {
  const doc = parseKubeconfig(await readFile(config, "utf8"), config);
  return doc.users!.find((u) => u.name === user)!.user!.exec as YamlMap;
}

describe("convert-kubeconfig", () => {
  test("CI recipe: -l spn with the secret in AZURE_CLIENT_SECRET never writes the secret", async () => {
    const { rt, config } = await setup({ AZURE_CLIENT_SECRET: "super-secret-value", AZURE_CLIENT_ID: "ci-app-id", AZURE_TENANT_ID: "ci-tenant" });
    await convertKubeconfigCommand.run(["-l", "spn"], rt.context());
    const text = await readFile(config, "utf8");
    expect(text).not.toContain("super-secret-value");
    expect(text).not.toContain("ci-app-id");
    expect((await execOf(config)).args).toEqual(["get-token", "--login", "spn", "--server-id", SERVER, "--client-id", AKS_CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud"]);
    expect(rt.stdout.text()).toBe("");
    expect(rt.stderr.text()).toBe("");
  });

  test("AAD_LOGIN_METHOD changes the target mode", async () => {
    const { rt, config } = await setup({ AAD_LOGIN_METHOD: "azurecli" });
    await convertKubeconfigCommand.run([], rt.context());
    expect((await execOf(config)).args).toEqual(["get-token", "--login", "azurecli", "--server-id", SERVER]);
  });

  test("without --kubeconfig or KUBECONFIG it converts ~/.kube/config, keeping its mode", async () => {
    const { rt, config } = await setup();
    await convertKubeconfigCommand.run(["-l", "workloadidentity"], rt.context());
    expect(await execOf(config)).toEqual({
      apiVersion: "client.authentication.k8s.io/v1beta1",
      args: ["get-token", "--login", "workloadidentity", "--server-id", SERVER],
      command: "kubelogin",
      env: null,
      installHint: "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://azure.github.io/kubelogin/\n",
      provideClusterInfo: false,
    });
    expect((await stat(config)).mode & 0o777).toBe(0o600);
  });

  test("KUBECONFIG and --kubeconfig are honoured", async () => {
    const { rt, config } = await setup();
    const elsewhere = join(rt.homedir, "elsewhere");
    await writeFile(elsewhere, AKS_KUBECONFIG);
    await convertKubeconfigCommand.run(["-l", "azd", "--kubeconfig", elsewhere], rt.context());
    expect((await execOf(elsewhere)).args).toContain("azd");
    expect(await readFile(config, "utf8")).toBe(AKS_KUBECONFIG);

    const viaEnv = testRuntime({ env: { KUBECONFIG: config }, homedir: "/nonexistent" });
    await convertKubeconfigCommand.run(["-l", "msi"], viaEnv.context());
    expect((await execOf(config)).args).toContain("msi");
  });

  test("--azure-config-dir becomes the exec env for azurecli", async () => {
    const { rt, config } = await setup();
    await convertKubeconfigCommand.run(["-l", "azurecli", "--azure-config-dir", "/ci/.azure"], rt.context());
    expect((await execOf(config)).env).toEqual([{ name: "AZURE_CONFIG_DIR", value: "/ci/.azure" }]);
  });

  test("--pop-enabled without --pop-claims is rejected before the kubeconfig is read", async () => {
    const { rt, config } = await setup();
    await expect(convertKubeconfigCommand.run(["-l", "spn", "--pop-enabled", "--kubeconfig", join(rt.homedir, "missing")], rt.context())).rejects.toBeInstanceOf(ValidationError);
    expect(await readFile(config, "utf8")).toBe(AKS_KUBECONFIG);
  });

  test("an invalid authority host is rejected", async () => {
    const { rt } = await setup();
    await expect(convertKubeconfigCommand.run(["-l", "workloadidentity", "--authority-host", "https://login.example.com"], rt.context())).rejects.toThrow(
      'authority host "https://login.example.com" should have a trailing slash',
    );
  });

  test("an unsupported -l is rejected with upstream's text", async () => {
    const { rt } = await setup();
    await expect(convertKubeconfigCommand.run(["-l", "bogus"], rt.context())).rejects.toThrow("'bogus' is not a supported login method");
  });

  test("the deprecated --token-cache-dir prints pflag's notice and is written as --cache-dir", async () => {
    const { rt, config } = await setup();
    await convertKubeconfigCommand.run(["-l", "azurecli", "--token-cache-dir", "/tmp/kl"], rt.context());
    expect(rt.stderr.text()).toBe("Flag --token-cache-dir has been deprecated, use --cache-dir instead\n");
    expect((await execOf(config)).args).toEqual(["get-token", "--login", "azurecli", "--server-id", SERVER, "--cache-dir", "/tmp/kl"]);
    expect(rt.stdout.text()).toBe("");
  });

  test("a missing server id fails with upstream's text and a hint naming the user and file", async () => {
    const { rt, config } = await setup({}, AKS_KUBECONFIG.replace(`      - --server-id\n      - ${SERVER}\n`, ""));
    await expect(convertKubeconfigCommand.run(["-l", "azurecli"], rt.context())).rejects.toThrow(
      expect.objectContaining({
        name: ConvertError.name,
        message: "--server-id is required",
        hint: `user "clusterUser_rg_aks" in ${config} has no --server-id in its exec args; pass --server-id <AAD server application ID>`,
      }),
    );
  });

  test("-v 5 logs to stderr with secrets redacted; stdout stays empty", async () => {
    const { rt, config } = await setup();
    await convertKubeconfigCommand.run(["-l", "spn", "--client-secret", "flag-secret-123", "-v", "5"], rt.context(5));
    expect((await execOf(config)).args).toContain("flag-secret-123");
    const log = rt.stderr.text();
    expect(log).toContain(`converting user "clusterUser_rg_aks" from ${config}`);
    expect(log).toContain(`saved ${config}`);
    expect(log).not.toContain("flag-secret-123");
    expect(rt.stdout.text()).toBe("");
  });

  test.each(["--help", "--help=true"])("%s prints help and converts nothing", async (flag) => {
    const { rt, config } = await setup();
    expect(await run(["convert-kubeconfig", "-l", "azurecli", flag], rt)).toBe(0);
    expect(rt.stdout.text()).toContain("--kubeconfig");
    expect(await readFile(config, "utf8")).toBe(AKS_KUBECONFIG);
  });

  test("through run(): errors are reported once on stderr with the hint, exit 1", async () => {
    const { rt, config } = await setup();
    expect(await run(["convert-kubeconfig", "--context", "nope"], rt)).toBe(1);
    expect(rt.stderr.text()).toBe('Error: no context exists with the name: "nope"\nhint: pass --context with one of: aks\n');
    expect(rt.stdout.text()).toBe("");
    expect(await readFile(config, "utf8")).toBe(AKS_KUBECONFIG);
  });

  test("through run(): success prints nothing and exits 0", async () => {
    const { rt, config } = await setup();
    expect(await run(["convert-kubeconfig", "-l", "azurecli"], rt)).toBe(0);
    expect(rt.stdout.text() + rt.stderr.text()).toBe("");
    expect((await execOf(config)).args).toEqual(["get-token", "--login", "azurecli", "--server-id", SERVER]);
  });
});
