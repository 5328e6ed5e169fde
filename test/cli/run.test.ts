// run(argv, rt) in-process: dispatch, help, version, unknown commands, modes not built yet, and
// get-token -l spn against the fake Entra ID (MSAL is real; the CA comes from globalSetup).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { loadStrategy } from "../../src/login/registry.js";
import { LOGIN_MODES } from "../../src/options/table.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = { clientId: "3f0bca0b-0d0b-4d2b-9c87-0a5d2c1c6d31", secret: "in-process-Secret.value" };

describe("help, version and dispatch", () => {
  test("no arguments prints root help on stdout and exits 0", async () => {
    const rt = testRuntime();
    expect(await run([], rt)).toBe(0);
    expect(rt.stdout.text()).toContain("login to azure active directory and populate kubeconfig with AAD tokens");
    for (const name of ["get-token", "convert-kubeconfig", "remove-cache-dir"]) expect(rt.stdout.text()).toContain(name);
    expect(rt.stdout.text()).not.toContain("remove-tokens");
    expect(rt.stderr.text()).toBe("");
  });

  test("get-token --help lists the upstream flags", async () => {
    const rt = testRuntime();
    expect(await run(["get-token", "--help"], rt)).toBe(0);
    for (const flag of ["--server-id", "--client-id", "--login", "--timeout", "--disable-instance-discovery", "--pop-claims"]) {
      expect(rt.stdout.text()).toContain(flag);
    }
    expect(rt.stdout.text()).toContain("(default 1m0s)");
  });

  test("--version prints upstream's five-line layout", async () => {
    const rt = testRuntime();
    expect(await run(["--version"], rt)).toBe(0);
    const lines = rt.stdout.text().split("\n");
    expect(lines[0]).toBe("kubelogin version ");
    expect(lines[1]).toMatch(/^git hash: v\d+\.\d+\.\d+/);
    expect(lines[4]).toBe("Platform: linux/amd64");
    expect(lines).toHaveLength(6);
  });

  test("an unknown command is cobra's error, exit 1", async () => {
    const rt = testRuntime();
    expect(await run(["foo"], rt)).toBe(1);
    expect(rt.stderr.text()).toBe(`Error: unknown command "foo" for "kubelogin"\nRun 'kubelogin --help' for usage.\n`);
    expect(rt.stdout.text()).toBe("");
  });

  test.each<[string, readonly string[], string]>([
    ["a typo", ["get-tokne"], "\n\nDid you mean this?\n\tget-token\n"],
    ["another case", ["GET-TOKEN"], "\n\nDid you mean this?\n\tget-token\n"],
    ["a prefix", ["remove"], "\n\nDid you mean this?\n\tremove-cache-dir\n"],
    ["nothing close; the hidden remove-tokens is never suggested", ["remove-token"], ""],
    ["an Object.prototype name is no command", ["constructor"], ""],
  ])("an unknown command gets cobra's suggestions: %s", async (_name, argv, suggestion) => {
    const rt = testRuntime();
    expect(await run(argv, rt)).toBe(1);
    expect(rt.stderr.text()).toBe(`Error: unknown command "${argv[0]}" for "kubelogin"${suggestion}\nRun 'kubelogin --help' for usage.\n`);
  });

  test("an unknown flag on the root is pflag's error, exit 1", async () => {
    const rt = testRuntime();
    expect(await run(["--foo"], rt)).toBe(1);
    expect(rt.stderr.text()).toBe("Error: unknown flag: --foo\n");
    expect(rt.stdout.text()).toBe("");
  });

  test("a bad flag is reported before --help is honoured", async () => {
    const rt = testRuntime();
    expect(await run(["get-token", "--bogus", "-h"], rt)).toBe(1);
    expect(rt.stderr.text()).toBe("Error: unknown flag: --bogus\n");
    expect(rt.stdout.text()).toBe("");
  });

  test("--version is a root-only flag; --help beats it, as cobra checks help first", async () => {
    const afterCommand = testRuntime();
    expect(await run(["get-token", "--version"], afterCommand)).toBe(1);
    expect(afterCommand.stderr.text()).toBe("Error: unknown flag: --version\n");
    const both = testRuntime();
    expect(await run(["--version", "--help"], both)).toBe(0);
    expect(both.stdout.text()).toContain("login to azure active directory");
  });

  test.each(["--help=true", "--help=1", "-h=true", "--help=false -h"])("get-token %s prints help instead of signing in", async (flags) => {
    const rt = testRuntime({ env: { AZURE_CLIENT_ID: "x" } });
    expect(await run(["get-token", ...flags.split(" "), "-l", "spn", "--server-id", SERVER_ID], rt)).toBe(0);
    expect(rt.stdout.text()).toContain("--server-id");
    expect(rt.stderr.text()).toBe("");
  });

  test.each(["--help=false", "-h --help=false"])("get-token %s runs the command", async (flags) => {
    const rt = testRuntime();
    expect(await run(["get-token", ...flags.split(" ")], rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe("Error: server-id is required");
    expect(rt.stdout.text()).toBe("");
  });

  test("help with an unknown topic is cobra's message and the root usage on stderr, exit 0", async () => {
    const rt = testRuntime();
    expect(await run(["help", "foo"], rt)).toBe(0);
    expect(rt.stderr.text()).toMatch(/^Unknown help topic \[`foo`\]\nUsage: kubelogin \[command\]/);
    expect(rt.stderr.text()).toContain("get-token");
    expect(rt.stdout.text()).toBe("");
    const two = testRuntime();
    expect(await run(["help", "foo", "bar`baz"], two)).toBe(0);
    expect(two.stderr.text().split("\n")[0]).toBe('Unknown help topic [`foo` "bar`baz"]');
  });

  test("help <command> prints that command's help on stdout", async () => {
    const rt = testRuntime();
    expect(await run(["help", "convert-kubeconfig"], rt)).toBe(0);
    expect(rt.stdout.text()).toContain("--kubeconfig");
    expect(rt.stderr.text()).toBe("");
  });

  test("remove-tokens --help prints cobra's deprecation line before the help", async () => {
    const rt = testRuntime();
    expect(await run(["remove-tokens", "--help"], rt)).toBe(0);
    expect(rt.stderr.text()).toBe('Command "remove-tokens" is deprecated, remove-tokens is deprecated, use remove-cache-dir instead\n');
    expect(rt.stdout.text()).toContain("--token-cache-dir");
  });

  test("an invalid -v level is pflag's error", async () => {
    const rt = testRuntime();
    expect(await run(["-v", "x", "get-token"], rt)).toBe(1);
    expect(rt.stderr.text()).toBe(`Error: invalid argument "x" for "-v, --v" flag: strconv.ParseInt: parsing "x": invalid syntax\n`);
  });

  test.each(LOGIN_MODES)("login method %s has its strategy", async (mode) => {
    expect((await loadStrategy(mode)).mode).toBe(mode);
  });
});

describe("get-token -l spn in-process", () => {
  let entra: FakeEntra;
  let shortLived: FakeEntra;
  beforeAll(async () => {
    const pki = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
    entra = await startFakeEntra({ pki, tenants: [TENANT], apps: [APP] });
    shortLived = await startFakeEntra({ pki, tenants: [TENANT], apps: [APP], tokenLifetimeSeconds: 200 });
  });
  afterAll(async () => {
    await Promise.all([entra.close(), shortLived.close()]);
  });

  const argv = async (authority: string, extra: string[] = []): Promise<string[]> => [
    "get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", "flag-client-id", "--tenant-id", TENANT,
    "--authority-host", authority, "--cache-dir", await mkdtemp(join(tmpdir(), "kubelogin-run-cache-")), ...extra,
  ];

  test("prints one ExecCredential line whose token is the one Entra issued; env beat the flag and -v 10 says so", async () => {
    const rt = testRuntime({ env: { AZURE_CLIENT_ID: APP.clientId, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: APP.secret } });
    expect(await run([...(await argv(entra.url)), "-v", "10"], rt)).toBe(0);
    const out = rt.stdout.text();
    expect(out.endsWith("}\n")).toBe(true);
    expect(out.split("\n")).toHaveLength(2);
    const credential = JSON.parse(out) as { kind: string; apiVersion: string; status: { token: string; expirationTimestamp: string } };
    expect(Object.keys(credential)).toEqual(["kind", "apiVersion", "spec", "status"]);
    expect(credential.apiVersion).toBe("client.authentication.k8s.io/v1beta1");
    expect(credential.status.token).toBe(entra.issuedTokens.at(-1));
    expect(credential.status.expirationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(rt.stderr.text()).toContain(`client-id="${APP.clientId}" [env AZURE_CLIENT_ID (overrode --client-id)]`);
    expect(rt.stderr.text()).toContain("client-secret=*** [env AAD_SERVICE_PRINCIPAL_CLIENT_SECRET]");
    expect(rt.stderr.text()).not.toContain(APP.secret);
  });

  test("KUBERNETES_EXEC_INFO v1 gives a v1 ExecCredential", async () => {
    const rt = testRuntime({
      env: { AZURE_CLIENT_ID: APP.clientId, AZURE_CLIENT_SECRET: APP.secret, KUBERNETES_EXEC_INFO: '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}' },
    });
    expect(await run(await argv(entra.url), rt)).toBe(0);
    expect(JSON.parse(rt.stdout.text())).toMatchObject({ apiVersion: "client.authentication.k8s.io/v1", spec: { interactive: false } });
  });

  test("--token-cache-dir still works and prints pflag's deprecation notice", async () => {
    const rt = testRuntime({ env: { AZURE_CLIENT_ID: APP.clientId, AZURE_CLIENT_SECRET: APP.secret } });
    const dir = await mkdtemp(join(tmpdir(), "kubelogin-old-flag-"));
    expect(await run([...(await argv(entra.url)), "--token-cache-dir", dir], rt)).toBe(0);
    expect(rt.stderr.text()).toBe("Flag --token-cache-dir has been deprecated, use --cache-dir instead\n");
  });

  test("a token with less than five minutes left is not served from the cache", async () => {
    const args = await argv(shortLived.url);
    const env = { AZURE_CLIENT_ID: APP.clientId, AZURE_CLIENT_SECRET: APP.secret };
    expect(await run(args, testRuntime({ env }))).toBe(0);
    expect(await run(args, testRuntime({ env }))).toBe(0);
    expect(shortLived.tokenRequests()).toHaveLength(2);
  });
});
