// The single executable (issue 13 item 1): `node scripts/package.mjs` (npm run package after the
// build) makes dist/kubelogin, which real kubectl runs from a PATH with no node on it: spn, then
// the second call from the cache, nothing on stderr either time; -l azurecli, which spawns az. With
// --cache-backend keychain it loads keytar from the addon embedded in it (src/cache/keytar-addon.ts),
// against a real Secret Service.
import { chmod, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { installFakeCli } from "../fakes/fake-cli.js";
import { KUBECTL_VERSIONS } from "../support/kubectl.js";
import { loadTestPki } from "../support/pki.js";
import { runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { keyringHome, removeKeyringHome, secretServiceAvailability, startSecretService, type SecretService } from "../support/secret-service.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXE = join(ROOT, "dist/kubelogin");

let stack: LocalStack;
let binDir: string;

beforeAll(async () => {
  // KUBELOGIN_SEA_NODE picks the Node to embed (scripts/package.mjs), e.g. to test the fallback to Node 20.
  const { PATH = "", KUBELOGIN_SEA_NODE } = process.env;
  const packaged = await runProcess(process.execPath, [join(ROOT, "scripts/package.mjs")], { PATH, ...(KUBELOGIN_SEA_NODE ? { KUBELOGIN_SEA_NODE } : {}) }, ROOT);
  expect(packaged.code, packaged.stderr).toBe(0);
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  // The only thing on the plugin's PATH.
  binDir = await mkdtemp(join(tmpdir(), "kubelogin-exe-bin-"));
  await symlink(EXE, join(binDir, "kubelogin"));
}, 180_000);
afterAll(async () => {
  await stack?.close();
  if (binDir) await rm(binDir, { recursive: true, force: true });
});

test("--version runs with an empty environment", async () => {
  const result = await runProcess(EXE, ["--version"], {});
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^kubelogin version \ngit hash: v\d+\.\d+\.\d+\/[0-9a-f]{40}(-dirty)?\nRuntime version: node v[\d.]+\nBuild time: \d{4}-/);
});

test.each(KUBECTL_VERSIONS)("kubectl %s lists nodes through dist/kubelogin with no node on PATH (spn; second call cached)", async (version) => {
  const kubeconfig = await stack.writeKubeconfig(`exe-${version}`, {
    args: [
      "get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", stack.secretApp.clientId, "--tenant-id", stack.tenantId,
      "--environment", "AzurePublicCloud", "--authority-host", stack.entra.url, "--cache-dir", join(stack.home, `exe-cache-${version}`),
    ],
    env: [{ name: "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", value: stack.secretApp.secret }],
  });
  const env = { PATH: binDir };
  const before = stack.entra.tokenRequests().length;
  for (const call of ["first", "second"]) {
    const result = await stack.kubectl(version, ["--kubeconfig", kubeconfig, "get", "nodes"], { env });
    expect(result.stderr, call).toBe("");
    expect(result.code, call).toBe(0);
    expect(result.stdout, call).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
  }
  expect(stack.entra.tokenRequests().length - before).toBe(1);
  expect(stack.api.acceptedTokens.at(-1)).toBe(stack.entra.issuedTokens.at(-1));
});

test("-l azurecli runs az from dist/kubelogin (a child process: the bundle's import() of built-ins works in an SEA)", async () => {
  const az = await installFakeCli("az", stack.home, { kind: "entra", authorityHost: stack.entra.url, credentials: { [stack.secretApp.clientId]: { secret: stack.secretApp.secret } } });
  await mkdir(join(stack.home, ".azure"), { recursive: true });
  const profile = { installationId: "e2e", subscriptions: [{ id: "00000000-0000-0000-0000-000000000000", name: "S", state: "Enabled", user: { name: stack.secretApp.clientId, type: "servicePrincipal" }, isDefault: true, tenantId: stack.tenantId, environmentName: "AzureCloud" }] };
  await writeFile(join(stack.home, ".azure", "azureProfile.json"), JSON.stringify(profile));
  // The fake az names its interpreter by absolute path: still no node on PATH.
  const result = await runProcess(EXE, ["get-token", "--login", "azurecli", "--server-id", SERVER_ID, "--cache-dir", join(stack.home, "exe-azurecli-cache")], {
    PATH: `${az.binDir}:${binDir}`,
    HOME: stack.home,
    NODE_EXTRA_CA_CERTS: stack.pki.caCertPath,
  });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout).status.token).toBe(stack.entra.issuedTokens.at(-1));
  expect(await az.runs()).toHaveLength(1);
});

const availability = secretServiceAvailability();
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ALICE = { username: "alice@contoso.example", password: "Corr3ct-Horse!" };

describe.skipIf(!availability.run)(`dist/kubelogin with the keychain backend and a real Secret Service ${availability.skipReason}`, () => {
  let home: string;
  let keyring: SecretService;
  beforeAll(async () => {
    stack.entra.users.addPublicClient(CLIENT);
    stack.entra.users.addUser(ALICE);
    home = await keyringHome();
    keyring = await startSecretService(home, { unlocked: true });
  });
  afterAll(async () => {
    await keyring?.stop();
    if (home) await removeKeyringHome(home);
  });

  test("a device-code sign-in keeps its refresh token in the keychain, in no file; a refresh reads it back silently", async () => {
    const dir = join(stack.home, "exe-keychain-cache");
    await mkdir(dir, { recursive: true });
    const service = `kubelogin ${await realpath(dir)}`;
    const args = [
      "get-token", "--login", "devicecode", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", stack.tenantId,
      "--authority-host", stack.entra.url, "--cache-dir", dir, "--cache-backend", "keychain",
    ];
    // No node on PATH; the fake Entra's CA and the private bus, nothing else.
    const env = { PATH: binDir, HOME: stack.home, NODE_EXTRA_CA_CERTS: stack.pki.caCertPath, ...keyring.env };
    stack.entra.users.deviceCode = { user: ALICE.username, slowDownPolls: 0, pendingPolls: 0, outcome: "approve", interval: 1 };
    // 302 s is under the 5 minutes kubelogin wants left a few seconds later: the next call must refresh.
    stack.entra.users.tokenLifetimeSeconds = 302;
    const first = await runProcess(EXE, args, env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/keychain|keytar|warning/i);

    const blob = await keyring.entry(service, "msal-user-cache.json");
    expect(blob).not.toBeNull();
    const secrets = Object.values((JSON.parse(blob!) as { RefreshToken: Record<string, { secret: string }> }).RefreshToken).map((entry) => entry.secret);
    expect(secrets).toHaveLength(1);
    for (const name of await readdir(dir)) {
      const text = await readFile(join(dir, name), "utf8");
      expect(text, name).not.toContain(secrets[0]);
      expect(text, name).not.toContain("RefreshToken");
    }

    // The addon's copy: private, named by its content, in the session's runtime dir.
    const copies = join(keyring.env.XDG_RUNTIME_DIR!, "kubelogin");
    expect((await stat(copies)).mode & 0o777).toBe(0o700);
    const [copy, ...others] = await readdir(copies);
    expect(others).toEqual([]);
    expect(copy).toMatch(/^keytar-[0-9a-f]{32}\.node$/);
    expect((await stat(join(copies, copy!))).mode & 0o777).toBe(0o600);

    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const refreshes = stack.entra.grantCount("refresh_token");
    const prompts = stack.entra.users.messages.length;
    const again = await runProcess(EXE, args, env);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(stack.entra.grantCount("refresh_token") - refreshes).toBe(1);
    expect(stack.entra.users.messages.length).toBe(prompts);
    stack.entra.users.tokenLifetimeSeconds = 3600;
  });

  test("with no XDG_RUNTIME_DIR the copy goes to ~/.cache/kubelogin, and is refused when an ancestor of HOME is writable by others", async () => {
    const open = await mkdtemp(join(tmpdir(), "kubelogin-exe-open-"));
    const private_ = await mkdtemp(join(tmpdir(), "kubelogin-exe-private-"));
    try {
      await chmod(open, 0o777);
      const args = (dir: string): string[] => [
        "get-token", "--login", "ropc", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", stack.tenantId, "--authority-host", stack.entra.url,
        "--username", ALICE.username, "--password", ALICE.password, "--cache-dir", dir, "--cache-backend", "keychain",
      ];
      const envFor = (home: string) => ({ PATH: binDir, HOME: home, NODE_EXTRA_CA_CERTS: stack.pki.caCertPath, DBUS_SESSION_BUS_ADDRESS: keyring.env.DBUS_SESSION_BUS_ADDRESS! });

      const shared = join(open, "alice");
      await mkdir(shared, { mode: 0o700 });
      const refused = await runProcess(EXE, args(join(shared, "kube-cache")), envFor(shared));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("the OS keychain is not available: the keytar module cannot be loaded");
      expect(refused.stderr).toContain(`its ancestor ${open} is writable by others (mode 777)`);
      expect(await readdir(join(shared, ".cache", "kubelogin"))).toEqual([]);

      const home = join(private_, "alice");
      await mkdir(home, { mode: 0o700 });
      const loaded = await runProcess(EXE, args(join(home, "kube-cache")), envFor(home));
      expect(loaded.stderr).toBe("");
      expect(loaded.code).toBe(0);
      expect(await readdir(join(home, ".cache", "kubelogin"))).toEqual([expect.stringMatching(/^keytar-[0-9a-f]{32}\.node$/)]);
    } finally {
      await rm(open, { recursive: true, force: true });
      await rm(private_, { recursive: true, force: true });
    }
  });
});
