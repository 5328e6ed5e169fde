// Device-code login at its edges, in-process against the fake Entra ID (MSAL is real): the plan's
// checks, key and inputs; Entra's refusals of a poll (expired, other errors, with and without an
// AADSTS description); the slow_down line at -v 5; and a timeout before any prompt.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { run } from "../../src/cli/run.js";
import { MissingOptionError, ValidationError } from "../../src/errors.js";
import { legacyDeviceCodePlan } from "../../src/login/adal-v1.js";
import { recordPaths, userCacheKey } from "../../src/login/auth-record.js";
import { entraTarget } from "../../src/login/authority.js";
import { devicecode, recordFilesFor } from "../../src/login/devicecode.js";
import type { LoginPlan, PlanContext } from "../../src/login/types.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const USER = { username: "bob@contoso.example", password: "unused-here" };
const TRACE = "Trace ID: 0b6e2f1c-1a2b-4c3d-8e9f-001122334455 Correlation ID: 5f4e3d2c-1b0a-4f9e-8d7c-665544332211 Timestamp: 2026-01-01 00:00:00Z";

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
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-devicecode-edges-"));
  entra.users.deviceCode = { user: USER.username, slowDownPolls: 0, pendingPolls: 0, outcome: "approve", interval: 0 };
});

const args = (extra: string[] = []): string[] => [
  "get-token", "-l", "devicecode", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", TENANT,
  "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra,
];

describe("the plan", () => {
  const optionsFor = (argv: readonly string[]) => {
    const { options, provenance } = resolveOptions(parseFlags(["-l", "devicecode", "--server-id", SERVER_ID, ...argv], GET_TOKEN_OPTIONS), {}, "/home/test");
    return validateOptions(options, provenance);
  };
  const context = (): PlanContext => ({ env: {}, homedir: "/home/test", cacheDir, state: createFileStore({ dir: cacheDir, now: Date.now, owns: () => true }) });
  const planError = (argv: readonly string[]): Promise<Error & { hint?: string }> =>
    devicecode.plan(optionsFor(argv), context()).then(
      () => expect.unreachable("the plan should have failed"),
      (err: unknown) => err as Error & { hint?: string },
    );

  test("a client is required, named with its variables; --legacy is ADAL's plan", async () => {
    const noClient = await planError(["--tenant-id", TENANT]);
    expect(noClient).toBeInstanceOf(MissingOptionError);
    expect([noClient.message, noClient.hint]).toEqual(["client ID cannot be empty", "pass --client-id or set AZURE_CLIENT_ID or AAD_SERVICE_PRINCIPAL_CLIENT_ID"]);
    const argv = ["--client-id", CLIENT, "--tenant-id", TENANT, "--legacy"];
    expect((await devicecode.plan(optionsFor(argv), context())).cacheKey).toEqual(legacyDeviceCodePlan(optionsFor(argv)).cacheKey);
  });

  test("a tenant is required, and must be a GUID or a domain", async () => {
    const noTenant = await planError(["--client-id", CLIENT]);
    expect(noTenant).toBeInstanceOf(MissingOptionError);
    expect([noTenant.message, noTenant.hint]).toEqual(["tenant ID cannot be empty", "pass --tenant-id or set AZURE_TENANT_ID"]);
    const bad = await planError(["--client-id", CLIENT, "--tenant-id", "a b"]);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad.hint).toBe("--tenant-id takes a tenant ID (a GUID) or a domain name such as contoso.onmicrosoft.com");
  });

  test("keyed by target and (no) account; its inputs are the two auth records; an unknown cloud is its warning", async () => {
    const argv = ["--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzureMoonCloud"];
    const plan: LoginPlan = await devicecode.plan(optionsFor(argv), context());
    const target = entraTarget(optionsFor(argv));
    expect(plan.cacheKey).toEqual(userCacheKey("devicecode", target, CLIENT, undefined));
    expect(plan.inputs).toEqual(recordPaths({ cacheDir }, { authorityHost: target.authorityHost, tenantId: TENANT, clientId: CLIENT }));
    expect(plan.warnings).toEqual(target.warnings);
    expect(plan.warnings.length).toBeGreaterThan(0);
    expect(recordFilesFor(context())).toEqual({ cacheDir });
    expect(devicecode.mode).toBe("devicecode");
  });
});

describe("Entra's refusal of a poll, in its own words", () => {
  test("an expired code: error and AADSTS description on the Error line, a hint to run again, the ids line", async () => {
    entra.users.deviceCode = { ...entra.users.deviceCode, outcome: "never" };
    entra.failNext(400, { error: "expired_token", error_description: `AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired.\r\n${TRACE}` });
    const rt = testRuntime();
    expect(await run(args(), rt)).toBe(1);
    const lines = rt.stderr.text().split("\n");
    expect(lines[1]).toBe("Error: failed to authenticate: expired_token: AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired.");
    expect(lines[2]).toBe("hint: the code expired before the sign-in was completed; run the command again for a new code");
    expect(lines[3]).toBe("trace id: 0b6e2f1c-1a2b-4c3d-8e9f-001122334455, correlation id: 5f4e3d2c-1b0a-4f9e-8d7c-665544332211");
  });

  test("another error without an AADSTS description is its code alone, with no hint", async () => {
    entra.users.deviceCode = { ...entra.users.deviceCode, outcome: "never" };
    entra.failNext(400, { error: "invalid_grant", error_description: "no code here" });
    const rt = testRuntime();
    expect(await run(args(), rt)).toBe(1);
    const lines = rt.stderr.text().split("\n");
    expect(lines[1]).toBe("Error: failed to authenticate: invalid_grant");
    expect(lines[2]).toBe("");
  });

  test("a refusal without a description at all", async () => {
    entra.users.deviceCode = { ...entra.users.deviceCode, outcome: "never" };
    entra.failNext(400, { error: "access_denied" });
    const rt = testRuntime();
    expect(await run(args(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n").slice(1)).toEqual(["Error: failed to authenticate: access_denied", ""]);
  });
});

test("slow_down is said at -v 5, once per slow_down", async () => {
  entra.users.deviceCode = { ...entra.users.deviceCode, slowDownPolls: 1, pendingPolls: 0 };
  const rt = testRuntime({ clock: { now: Date.now, sleep: async () => undefined } });
  expect(await run(args(["-v", "5"]), rt), rt.stderr.text()).toBe(0);
  const said = rt.stderr.text().split("\n").filter((line) => line.includes("slow_down"));
  expect(said).toHaveLength(1);
  expect(said[0]).toMatch(/device code: slow_down; polling every 5s more from now on$/);
  expect(rt.stderr.text()).toContain("using credential: DeviceCodeCredential\n");
});

test("--timeout before Entra answered the device-code request is the run's timeout; no prompt was shown", async () => {
  const rt = testRuntime({
    fetch: (input, init) =>
      String(input).includes("/devicecode")
        ? new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason as Error)))
        : fetch(input, init),
  });
  expect(await run(args(["--timeout", "1s"]), rt)).toBe(1);
  expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to authenticate: DeviceCodeCredential: context deadline exceeded");
});
