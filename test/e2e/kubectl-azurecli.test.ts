// Real kubectl → our built kubelogin -l azurecli / -l azd → fake `az` / `azd` first on PATH, which
// sign in at the fake Entra ID as whoever their config files name → fake API server. The point of
// decision 11: the CLI runs once per token lifetime, and again as soon as its identity changes.
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { installFakeCli, type FakeCli, type FakeCliCredential } from "../fakes/fake-cli.js";
import { aksClusterYaml, aksDevicecodeUsersYaml } from "../fixtures/kubeconfigs.js";
import { loadTestPki } from "../support/pki.js";
import { KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";

let stack: LocalStack;
let az: FakeCli;
let azd: FakeCli;
let credentials: Record<string, FakeCliCredential>;

beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  credentials = {
    [stack.secretApp.clientId]: { secret: stack.secretApp.secret },
    [stack.certApp.clientId]: { certificatePem: stack.certApp.certificate.certPem, privateKeyPem: stack.certApp.certificate.keyPkcs8Pem },
  };
  const signIn = { kind: "entra", authorityHost: stack.entra.url, credentials } as const;
  az = await installFakeCli("az", stack.home, signIn);
  azd = await installFakeCli("azd", stack.home, signIn);
});
afterAll(async () => {
  await stack.close();
});

let counter = 0;
let cacheDir: string;
beforeEach(() => {
  cacheDir = join(stack.home, `cli-cache-${++counter}`);
});

/** What `az login --service-principal` leaves in azureProfile.json: the subscriptions it can see, one of them the default. */
async function writeAzProfile(configDir: string, users: readonly string[], defaultIndex: number): Promise<void> {
  await mkdir(configDir, { recursive: true });
  const subscriptions = users.map((user, i) => ({
    id: `00000000-0000-0000-0000-00000000000${i}`,
    name: `Subscription ${i}`,
    state: "Enabled",
    user: { name: user, type: "servicePrincipal" },
    isDefault: i === defaultIndex,
    tenantId: stack.tenantId,
    environmentName: "AzureCloud",
  }));
  await writeFile(join(configDir, "azureProfile.json"), `\uFEFF${JSON.stringify({ installationId: "e2e", subscriptions })}`);
}

async function writeAzdAuth(configDir: string, clientId: string): Promise<void> {
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, "auth.json"), JSON.stringify({ auth: { account: { currentUser: { clientId, tenantId: stack.tenantId } } } }));
}

const pathWith = (fake: FakeCli): string => `${fake.binDir}:${stack.binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`;
const lastTokenAppId = (): string =>
  (JSON.parse(Buffer.from(stack.api.acceptedTokens.at(-1)!.split(".")[1]!, "base64url").toString()) as { appid: string }).appid;

describe.each([
  {
    mode: "azurecli",
    cli: () => az,
    kubectl: "1.33",
    // The default ~/.azure under kubectl's HOME: no AZURE_CONFIG_DIR needed.
    signIn: (clientId: string) => writeAzProfile(join(stack.home, ".azure"), [stack.secretApp.clientId, stack.certApp.clientId], clientId === stack.secretApp.clientId ? 0 : 1),
  },
  {
    mode: "azd",
    cli: () => azd,
    kubectl: "1.27",
    signIn: (clientId: string) => writeAzdAuth(join(stack.home, ".azd"), clientId),
  },
])("kubectl $kubectl → kubelogin -l $mode", ({ mode, cli, kubectl, signIn }) => {
  test("ten kubectl calls run the CLI once; after the CLI signs in as someone else the next call runs it again and kubectl gets that identity's token", async () => {
    await signIn(stack.secretApp.clientId);
    const kubeconfig = await stack.writeKubeconfig(`${mode}-${counter}`, { args: ["get-token", "--login", mode, "--server-id", SERVER_ID, "--cache-dir", cacheDir] });
    const runsBefore = (await cli().runs()).length;
    const get = () => stack.kubectl(kubectl, ["--kubeconfig", kubeconfig, "get", "nodes"], { env: { PATH: pathWith(cli()) } });

    for (let i = 0; i < 10; i++) {
      const result = await get();
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
    }
    expect((await cli().runs()).length - runsBefore).toBe(1);
    expect(lastTokenAppId()).toBe(stack.secretApp.clientId);

    await signIn(stack.certApp.clientId);
    const after = await get();
    expect(after.code).toBe(0);
    expect((await cli().runs()).length - runsBefore).toBe(2);
    expect(lastTokenAppId()).toBe(stack.certApp.clientId);
    expect(stack.api.acceptedTokens.at(-1)).toBe(stack.entra.issuedTokens.at(-1));

    await get();
    expect((await cli().runs()).length - runsBefore).toBe(2);
  });
});

test("16 parallel kubectl calls in azurecli mode run az once and all list nodes with the same token", async () => {
  await writeAzProfile(join(stack.home, ".azure"), [stack.secretApp.clientId], 0);
  const kubeconfig = await stack.writeKubeconfig(`azurecli-parallel-${counter}`, { args: ["get-token", "--login", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir] });
  const runsBefore = (await az.runs()).length;
  const acceptedBefore = stack.api.acceptedTokens.length;
  const results = await Promise.all(
    Array.from({ length: 16 }, () => stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"], { env: { PATH: pathWith(az) } })),
  );
  for (const result of results) {
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
  }
  expect((await az.runs()).length - runsBefore).toBe(1);
  const tokens = stack.api.acceptedTokens.slice(acceptedBefore);
  expect(tokens.length).toBeGreaterThanOrEqual(16);
  expect(new Set(tokens).size).toBe(1);
  expect(lastTokenAppId()).toBe(stack.secretApp.clientId);
});

test("expiresOn without expires_on is read in kubelogin's local time zone (TZ)", async () => {
  const root = join(stack.home, "tz");
  const printing = await installFakeCli("az", root, {
    kind: "print",
    stdout: JSON.stringify({ accessToken: "tz-token", expiresOn: "2031-01-02 03:04:05.123456", tokenType: "Bearer" }),
  });
  const result = await stack.kubelogin(["get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir], {
    env: { PATH: pathWith(printing), TZ: "Asia/Kolkata" },
  });
  expect(result.stderr).toBe("");
  // 03:04:05 at UTC+05:30
  expect(JSON.parse(result.stdout)).toMatchObject({ status: { token: "tz-token", expirationTimestamp: "2031-01-01T21:34:05Z" } });
  expect((await printing.runs())[0]!.env.TZ).toBe("Asia/Kolkata");
});

test("no az on PATH: one Error line (and its hint), exit 1", async () => {
  const result = await stack.kubelogin(["get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir], { env: { PATH: "/nonexistent" } });
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines.filter((line) => line.startsWith("Error:"))).toEqual(["Error: failed to get token: AzureCLICredential: Azure CLI not found on path"]);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatch(/^hint: install the Azure CLI/);
});

test("--timeout ends a hanging az: the process exits, az is killed, and the error names --timeout", async () => {
  const hanging = await installFakeCli("az", join(stack.home, "hang"), { kind: "hang" });
  const result = await stack.kubelogin(["get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir, "--timeout", "2s"], {
    env: { PATH: pathWith(hanging) },
  });
  expect(result.code).toBe(1);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines[0]).toBe("Error: failed to get token: context deadline exceeded");
  expect(lines[1]).toMatch(/^hint: kubelogin stopped waiting after 2s \(--timeout\): raise --timeout/);
  const [run] = await hanging.runs();
  await expect.poll(() => isAlive(run!.pid), { timeout: 20_000 }).toBe(false);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("convert-kubeconfig -l azurecli --azure-config-dir, then kubectl get nodes", async () => {
  const configDir = join(stack.home, "converted-azure");
  await writeAzProfile(configDir, [stack.certApp.clientId], 0);
  const kubeconfig = join(stack.home, "convert-azurecli.yaml");
  await writeFile(kubeconfig, aksClusterYaml({ server: stack.api.url, caData: stack.api.caData }) + aksDevicecodeUsersYaml(stack.tenantId), { mode: 0o600 });

  const converted = await stack.kubelogin(["convert-kubeconfig", "-l", "azurecli", "--azure-config-dir", configDir], { env: { KUBECONFIG: kubeconfig } });
  expect(converted).toMatchObject({ code: 0, stderr: "" });
  const doc = load(await readFile(kubeconfig, "utf8")) as { users: { user: { exec: { args: string[]; env: unknown } } }[] };
  expect(doc.users[0]!.user.exec.args).toEqual(["get-token", "--login", "azurecli", "--server-id", SERVER_ID]);
  expect(doc.users[0]!.user.exec.env).toEqual([{ name: "AZURE_CONFIG_DIR", value: configDir }]);

  const runsBefore = (await az.runs()).length;
  const nodes = await stack.kubectl("1.33", ["get", "nodes"], { env: { KUBECONFIG: kubeconfig, PATH: pathWith(az) } });
  expect(nodes.stderr).toBe("");
  expect(nodes.code).toBe(0);
  expect(nodes.stdout).toContain("node-1");
  const runs = await az.runs();
  expect(runs.length - runsBefore).toBe(1);
  expect(runs.at(-1)!.env.AZURE_CONFIG_DIR).toBe(configDir);
  expect(lastTokenAppId()).toBe(stack.certApp.clientId);
});

test("a cached azurecli token is served after reading az's profile, without running az or loading a heavy module", async () => {
  await writeAzProfile(join(stack.home, ".azure"), [stack.secretApp.clientId], 0);
  const recorder = fileURLToPath(new URL("../support/record-loads.mjs", import.meta.url));
  const getToken = async () => {
    const log = join(await mkdtemp(join(tmpdir(), "kubelogin-loads-")), "loads.txt");
    const args = ["--import", recorder, KUBELOGIN_BIN, "get-token", "-l", "azurecli", "--server-id", SERVER_ID, "--cache-dir", cacheDir];
    const result = await runProcess(process.execPath, args, stack.env({ PATH: pathWith(az), KUBELOGIN_LOAD_LOG: log }));
    return { ...result, loaded: (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean) };
  };
  const miss = await getToken();
  expect(miss.code).toBe(0);
  const runsBefore = (await az.runs()).length;
  const hit = await getToken();
  expect(hit.code).toBe(0);
  expect(hit.stdout).toBe(miss.stdout);
  expect((await az.runs()).length).toBe(runsBefore);
  const heavy = ["@azure/msal-node", "@azure/identity", "yargs", "node-forge", "js-yaml", "node:child_process"];
  expect(hit.loaded.filter((url) => heavy.some((name) => url.includes(`/node_modules/${name}/`) || url === name))).toEqual([]);
  expect(hit.loaded.some((url) => url.endsWith("/dist/main.js"))).toBe(true);
  // The fast path alone (scripts/build.mjs): the full CLI's bundle is not loaded.
  expect(hit.loaded.some((url) => url.endsWith("/dist/cold/full-cli.js"))).toBe(false);
});
