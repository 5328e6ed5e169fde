// --legacy (compat spec §3.4, §3.6; decision 9): the ADAL v1 endpoints with `resource=`, through
// the real get-token use case against the fake Entra's v1 endpoints, and cached like every token.
// devicecode.ts is another helper's; its legacy branch is legacyDeviceCodePlan, driven here
// through getToken's strategy seam.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { getToken } from "../../src/exec/get-token.js";
import { legacyDeviceCodePlan } from "../../src/login/adal-v1.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS, GLOBAL_OPTIONS, type OptionSpec } from "../../src/options/table.js";
import { validateOptions, type ValidatedResolvedOptions } from "../../src/options/validate.js";
import type { Clock } from "../../src/runtime.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { createClientCertificate, loadTestPki, toPfx } from "../support/pki.js";
import { fixedClock, testRuntime, type TestRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const PUBLIC_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const SECRET_APP = { clientId: "3f0bca0b-0d0b-4d2b-9c87-0a5d2c1c6d31", secret: "legacy-Secret.value" };
const CERT_APP = { clientId: "5c0b7a1e-8f0e-4a39-9d2c-7e1f00c0ffee", certificate: createClientCertificate("legacy-spn") };
const USER = "alice@contoso.example";

let entra: FakeEntra;
let certDir: string;
beforeAll(async () => {
  const pki = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
  entra = await startFakeEntra({
    pki,
    tenants: [TENANT],
    apps: [{ clientId: SECRET_APP.clientId, secret: SECRET_APP.secret }, { clientId: CERT_APP.clientId, certificatePem: CERT_APP.certificate.certPem }],
  });
  entra.v1.addPublicClient(PUBLIC_CLIENT);
  entra.v1.deviceCode.user = USER;
  certDir = await mkdtemp(join(tmpdir(), "kubelogin-legacy-cert-"));
  await writeFile(join(certDir, "spn.pem"), CERT_APP.certificate.keyPkcs8Pem + CERT_APP.certificate.certPem, { mode: 0o600 });
  await writeFile(join(certDir, "spn.pfx"), toPfx(CERT_APP.certificate, "pfx-pass"), { mode: 0o600 });
});
afterAll(async () => {
  await entra.close();
});

const newCacheDir = (): Promise<string> => mkdtemp(join(tmpdir(), "kubelogin-legacy-cache-"));
const since = (mark: number) => entra.requests.slice(mark);
const claimsOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
const headerOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split(".")[0]!, "base64url").toString("utf8")) as Record<string, unknown>;

/** A clock that sleeps without waiting and remembers each wait. */
function recordingClock(): Clock & { sleeps: number[] } {
  const clock = fixedClock(Date.now());
  const sleeps: number[] = [];
  return { now: clock.now, sleeps, sleep: (ms, signal) => (sleeps.push(ms), clock.sleep(ms, signal)) };
}

/** get-token -l devicecode --legacy, with legacyDeviceCodePlan as the devicecode strategy's legacy branch. */
async function legacyDeviceCode(rt: TestRuntime, cacheDir: string, extra: string[] = []): Promise<void> {
  const options = [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS];
  const args = ["--server-id", SERVER_ID, "--client-id", PUBLIC_CLIENT, "--tenant-id", TENANT, "--authority-host", entra.url, "--cache-dir", cacheDir, "--legacy", ...extra];
  await getToken(validated(args, options, rt), { rt, log: rt.logger() });
}

/** The options as the get-token command hands them to the use case: resolved, then validated (default login: devicecode). */
function validated(args: string[], options: readonly OptionSpec[], rt: TestRuntime): ValidatedResolvedOptions {
  const { options: resolved, provenance } = resolveOptions(parseFlags(args, options), rt.env, rt.homedir);
  return { options: validateOptions(resolved, provenance), provenance };
}

describe("devicecode --legacy", () => {
  test("asks the v1 device-code endpoint for the resource, shows Entra's message, polls as adal does, and the next call is served from the cache", async () => {
    entra.v1.deviceCode = { user: USER, slowDownPolls: 1, pendingPolls: 2, interval: 1 };
    const cacheDir = await newCacheDir();
    const mark = entra.requests.length;
    const clock = recordingClock();
    const rt = testRuntime({ clock });
    await legacyDeviceCode(rt, cacheDir);

    const token = (JSON.parse(rt.stdout.text()) as { status: { token: string } }).status.token;
    expect(token).toBe(entra.issuedTokens.at(-1));
    expect(claimsOf(token)).toMatchObject({ aud: SERVER_ID, upn: USER, appid: PUBLIC_CLIENT });
    expect(rt.stderr.text()).toBe(`${entra.v1.messages.at(-1)}\n`);

    const requests = since(mark);
    expect(requests[0]).toMatchObject({ method: "POST", path: `/${TENANT}/oauth2/devicecode`, query: { "api-version": "1.0" }, form: { client_id: PUBLIC_CLIENT, resource: SERVER_ID } });
    expect(requests[0]!.form.scope).toBeUndefined();
    const polls = requests.slice(1);
    expect(polls).toHaveLength(4);
    for (const poll of polls) {
      expect(poll).toMatchObject({ path: `/${TENANT}/oauth2/token`, query: { "api-version": "1.0" } });
      expect(Object.keys(poll.form).sort()).toEqual(["client_id", "code", "grant_type", "resource"]);
      expect(poll.form).toMatchObject({ grant_type: "device_code", resource: SERVER_ID, client_id: PUBLIC_CLIENT });
    }
    // slow_down doubles adal's wait; authorization_pending keeps it.
    expect(clock.sleeps).toEqual([2000, 2000, 2000]);

    const again = testRuntime();
    const before = entra.requests.length;
    await legacyDeviceCode(again, cacheDir);
    expect(again.stdout.text()).toBe(rt.stdout.text());
    expect(again.stderr.text()).toBe("");
    expect(entra.requests.length).toBe(before);
  });

  test("slow_down more than adal tolerates ends with upstream's breadcrumb", async () => {
    entra.v1.deviceCode = { user: USER, slowDownPolls: 5, pendingPolls: 0, interval: 1 };
    await expect(legacyDeviceCode(testRuntime({ clock: recordingClock() }), await newCacheDir())).rejects.toThrow(
      "failed to get token: waiting for device code authentication to complete: autorest/adal/devicetoken: Error waiting for user to complete device flow. Server told us to slow_down too much",
    );
  });

  test("a refused device-code request names the AADSTS error after upstream's (sic) prefix, with a hint", async () => {
    const options = [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS];
    const rt = testRuntime();
    const args = ["--server-id", SERVER_ID, "--client-id", "00000000-0000-0000-0000-00000000dead", "--tenant-id", TENANT, "--authority-host", entra.url, "--cache-dir", await newCacheDir(), "--legacy"];
    const attempt = getToken(validated(args, options, rt), { rt, log: rt.logger() });
    await expect(attempt).rejects.toThrow(
      /^failed to get token: initialing the device code authentication: autorest\/adal\/devicetoken: Error occurred while handling response from the Device Endpoint: Error HTTP status != 200: unauthorized_client: AADSTS700016: Application with identifier '00000000-0000-0000-0000-00000000dead' was not found/,
    );
    await expect(attempt).rejects.toMatchObject({ hint: expect.stringContaining("--client-id") });
  });

  test("--timeout bounds the wait for the user, in adal's words as upstream prints them", async () => {
    entra.v1.deviceCode = { user: USER, slowDownPolls: 0, pendingPolls: 1000, interval: 1 };
    const attempt = legacyDeviceCode(testRuntime(), await newCacheDir(), ["--timeout", "2s"]);
    await expect(attempt).rejects.toThrow(
      /^failed to get token: waiting for device code authentication to complete: (autorest\/adal\/devicetoken: Error occurred while sending request with device code for a token: Post "[^"]+\/oauth2\/token\?api-version=1\.0": )?context deadline exceeded$/,
    );
    await expect(attempt).rejects.toMatchObject({ hint: expect.stringMatching(/^the device-code sign-in was not completed within 2s \(--timeout\)/) });
  });

  test("the plan checks upstream's required options and keys the token apart from v2 sign-ins", async () => {
    const options = [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS];
    const resolve = (args: string[]) => resolveOptions(parseFlags(args, options), {}, "/nonexistent").options;
    expect(() => legacyDeviceCodePlan(resolve(["--server-id", SERVER_ID, "--tenant-id", TENANT]))).toThrow("client ID cannot be empty");
    expect(() => legacyDeviceCodePlan(resolve(["--server-id", SERVER_ID, "--client-id", PUBLIC_CLIENT]))).toThrow("tenant ID cannot be empty");
    const plan = legacyDeviceCodePlan(resolve(["--server-id", `${SERVER_ID}/.default/`, "--client-id", PUBLIC_CLIENT, "--tenant-id", TENANT, "--legacy"]));
    expect(plan.cacheKey).toEqual(["devicecode", "legacy", "https://login.microsoftonline.com/", TENANT, PUBLIC_CLIENT, SERVER_ID]);
  });
});

describe("spn --legacy", () => {
  const spnArgs = async (extra: string[]): Promise<string[]> => [
    "get-token", "-l", "spn", "--legacy", "--server-id", SERVER_ID, "--tenant-id", TENANT, "--authority-host", entra.url, "--cache-dir", await newCacheDir(), ...extra,
  ];

  test("a secret goes to the v1 token endpoint with resource=; the second call is served from the cache; v2 is a different token", async () => {
    const args = await spnArgs(["--client-id", SECRET_APP.clientId]);
    const env = { AZURE_CLIENT_SECRET: SECRET_APP.secret };
    const mark = entra.requests.length;
    const rt = testRuntime({ env });
    expect(await run(args, rt)).toBe(0);
    const token = (JSON.parse(rt.stdout.text()) as { status: { token: string } }).status.token;
    expect(token).toBe(entra.issuedTokens.at(-1));
    expect(claimsOf(token)).toMatchObject({ aud: SERVER_ID, appid: SECRET_APP.clientId, appidacr: "1" });
    const requests = since(mark);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      path: `/${TENANT}/oauth2/token`,
      query: { "api-version": "1.0" },
      form: { grant_type: "client_credentials", client_id: SECRET_APP.clientId, client_secret: SECRET_APP.secret, resource: SERVER_ID },
    });

    const again = testRuntime({ env });
    expect(await run(args, again)).toBe(0);
    expect(again.stdout.text()).toBe(rt.stdout.text());
    expect(entra.requests.length).toBe(mark + 1);

    const v2 = testRuntime({ env });
    expect(await run(args.filter((arg) => arg !== "--legacy"), v2)).toBe(0);
    expect(since(mark + 1).map((r) => r.path)).toContain(`/${TENANT}/oauth2/v2.0/token`);
  });

  test.each([
    ["PEM", "spn.pem", []],
    ["PFX", "spn.pfx", ["--client-certificate-password", "pfx-pass"]],
  ])("a %s certificate signs an RS256 assertion with x5t for the v1 endpoint; the second call is served from the cache", async (_kind, file, extra) => {
    const args = await spnArgs(["--client-id", CERT_APP.clientId, "--client-certificate", join(certDir, file), ...extra]);
    const mark = entra.requests.length;
    const rt = testRuntime();
    expect(await run(args, rt)).toBe(0);
    expect(claimsOf((JSON.parse(rt.stdout.text()) as { status: { token: string } }).status.token)).toMatchObject({ aud: SERVER_ID, appidacr: "2" });
    const [request] = since(mark);
    expect(request).toMatchObject({ path: `/${TENANT}/oauth2/token`, form: { grant_type: "client_credentials", resource: SERVER_ID } });
    const assertion = request!.form.client_assertion!;
    expect(headerOf(assertion)).toMatchObject({ alg: "RS256", typ: "JWT", x5t: expect.any(String), x5c: [expect.any(String)] });
    expect(claimsOf(assertion)).toMatchObject({ aud: `${entra.url}${TENANT}/oauth2/token?api-version=1.0`, iss: CERT_APP.clientId, sub: CERT_APP.clientId });

    expect(await run(args, testRuntime())).toBe(0);
    expect(entra.requests.length).toBe(mark + 1);
  });

  test("a rejected secret keeps upstream's text, Entra's AADSTS code and the secret hint", async () => {
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: "wrong-secret-value" } });
    expect(await run(await spnArgs(["--client-id", SECRET_APP.clientId]), rt)).toBe(1);
    const lines = rt.stderr.text().split("\n");
    expect(lines[0]).toMatch(
      /^Error: failed to get token: adal: Refresh request failed\. Status Code = '401'\. Response body: \{.*"error":"invalid_client".*AADSTS7000215: Invalid client secret provided\..*\} Endpoint https:\/\/127\.0\.0\.1:\d+\/[^/]+\/oauth2\/token\?api-version=1\.0$/,
    );
    expect(lines[1]).toMatch(/^hint: the client secret was rejected; check --client-secret \(set by AZURE_CLIENT_SECRET\)/);
    expect(rt.stderr.text()).not.toContain("wrong-secret-value");
  });
});
