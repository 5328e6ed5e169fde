// get-token -l azurepipelines in-process (compat spec §3.12, §1.2 step 8) against a fake Azure
// Pipelines OIDC endpoint and fake Entra's federated credentials.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { PIPELINES_ISSUER, startFakePipelinesOidc, type FakePipelinesOidc } from "../fakes/fake-pipelines-oidc.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID = "8c8c8c8c-0000-4000-8000-000000000001";

let entra: FakeEntra;
let oidc: FakePipelinesOidc;
beforeAll(async () => {
  oidc = await startFakePipelinesOidc();
  entra = await startFakeEntra({
    pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!),
    tenants: [TENANT],
    apps: [{ clientId: CLIENT_ID, federated: [{ issuer: PIPELINES_ISSUER, subject: oidc.subject }] }],
  });
});
afterAll(async () => {
  await Promise.all([entra.close(), oidc.close()]);
});

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-pipelines-"));
});

const argv = (...extra: string[]): string[] => ["get-token", "-l", "azurepipelines", "--server-id", SERVER_ID, "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra];
/** What an AzureCLI@2 task with a workload-identity service connection has, plus the mapped access token. */
const jobEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  SYSTEM_ACCESSTOKEN: oidc.accessToken,
  SYSTEM_OIDCREQUESTURI: oidc.requestUri,
  AZURESUBSCRIPTION_CLIENT_ID: CLIENT_ID,
  AZURESUBSCRIPTION_TENANT_ID: TENANT,
  AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: oidc.serviceConnectionId,
  ...extra,
});
const tokenOf = (out: string): string => (JSON.parse(out) as { status: { token: string } }).status.token;

test("the AZURESUBSCRIPTION_* fallbacks, the OIDC POST with both headers, a client assertion; then the cache", async () => {
  const before = oidc.requests.length;
  const rt = testRuntime({ env: jobEnv() });
  expect(await run(argv("-v", "10"), rt)).toBe(0);
  expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
  const request = oidc.requests.at(-1)!;
  expect(request.method).toBe("POST");
  expect(request.query).toEqual({ "api-version": "7.1", serviceConnectionId: oidc.serviceConnectionId });
  expect(request.headers.authorization).toBe(`Bearer ${oidc.accessToken}`);
  expect(request.headers["x-tfs-fedauthredirect"]).toBe("Suppress");
  expect(entra.tokenRequests().at(-1)!.form).toMatchObject({ client_id: CLIENT_ID, grant_type: "client_credentials" });
  expect(rt.stderr.text()).toContain("using credential: AzurePipelinesCredential");
  expect(rt.stderr.text()).not.toContain(oidc.accessToken);

  expect(await run(argv(), testRuntime({ env: jobEnv() }))).toBe(0);
  expect(oidc.requests.length - before).toBe(1);
});

test("a fallback never overrides a flag: --client-id beats AZURESUBSCRIPTION_CLIENT_ID", async () => {
  const rt = testRuntime({ env: jobEnv({ AZURESUBSCRIPTION_CLIENT_ID: "0000dead-0000-4000-8000-000000000000" }) });
  expect(await run(argv("--client-id", CLIENT_ID), rt)).toBe(0);
  expect(entra.tokenRequests().at(-1)!.form.client_id).toBe(CLIENT_ID);
});

describe("upstream's checks, in upstream's order", () => {
  test.each([
    ["SYSTEM_ACCESSTOKEN environment variable not set", { SYSTEM_ACCESSTOKEN: "", AZURESUBSCRIPTION_CLIENT_ID: "" }],
    [
      "failed to create azure pipelines credential: invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names",
      { AZURESUBSCRIPTION_TENANT_ID: "", AZURESUBSCRIPTION_CLIENT_ID: "" },
    ],
    ["failed to create azure pipelines credential: no client ID specified", { AZURESUBSCRIPTION_CLIENT_ID: "" }],
    ["failed to create azure pipelines credential: no service connection ID specified", { AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "" }],
    ["failed to create azure pipelines credential: no value for environment variable SYSTEM_OIDCREQUESTURI. This should be set by Azure Pipelines", { SYSTEM_OIDCREQUESTURI: "" }],
  ])("%s", async (text, override) => {
    const rt = testRuntime({ env: jobEnv(override) });
    expect(await run(argv(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(`Error: failed to create azidentity credential: ${text}`);
    expect(rt.stdout.text()).toBe("");
  });

  test("SYSTEM_ACCESSTOKEN is read even with --disable-environment-override, and its absence says how to map it", async () => {
    const rt = testRuntime({ env: { SYSTEM_OIDCREQUESTURI: oidc.requestUri } });
    expect(await run(argv("--disable-environment-override", "--client-id", CLIENT_ID, "--tenant-id", TENANT), rt)).toBe(1);
    expect(rt.stderr.text()).toBe(
      "Error: failed to create azidentity credential: SYSTEM_ACCESSTOKEN environment variable not set\nhint: map it into the step that runs kubectl: `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` (Azure Pipelines does not expose it to scripts by itself)\n",
    );
  });

  test("a non-200 from the OIDC endpoint is azidentity's text with the x-msedge-ref and x-vss-e2eid ids", async () => {
    const rt = testRuntime({ env: jobEnv({ AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "wrong-connection" }) });
    expect(await run(argv(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(
      "Error: failed to get token: 404 Not Found response from the OIDC endpoint. Check service connection ID and Pipeline configuration. x-msedge-ref: Ref A: 0123456789ABCDEF Ref B: PIPE01 Ref C: 2026-01-01T00:00:00Z, x-vss-e2eid: e2e-0000-1111",
    );
  });
});
