// get-token -l msi in-process against the fake IMDS / App Service endpoints (compat spec §3.8).
// Nothing here may reach 169.254.169.254: every run points IMDS at the fake through
// AZURE_POD_IDENTITY_AUTHORITY_HOST, or names another source.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { detectSource, expiryOf, managedIdFor } from "../../src/login/msi.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { startFakeImds, type FakeImds } from "../fakes/fake-imds.js";
import { startHttpFake, type HttpFake } from "../fakes/http-fake.js";
import { APP_SERVICE_400_UNASSIGNED_IDENTITY, IMDS_200_RECORDED, IMDS_400_AADSTS50001_DOCUMENTED, IMDS_400_AADSTS500011 } from "../fixtures/recorded-responses.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SYSTEM = { clientId: "5a5a5a5a-0000-4000-8000-000000000001" };
const USER = { clientId: "5a5a5a5a-0000-4000-8000-000000000002", resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubectl" };

let entra: FakeEntra;
let imds: FakeImds;
/** An IMDS that answers every token request with the documented invalid_resource error. */
let documented: HttpFake & { imdsHost: string };
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [] });
  imds = await startFakeImds({
    systemAssigned: SYSTEM,
    userAssigned: [USER],
    knownResources: [SERVER_ID],
    issue: (id, resource) => entra.issueManagedIdentityToken(id, resource),
  });
  const fake = await startHttpFake(() => IMDS_400_AADSTS50001_DOCUMENTED);
  documented = { ...fake, imdsHost: fake.origin };
});
afterAll(async () => {
  await Promise.all([entra.close(), imds.close(), documented.close()]);
});

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-msi-"));
});

const argv = (...extra: string[]): string[] => ["get-token", "-l", "msi", "--server-id", SERVER_ID, "--cache-dir", cacheDir, ...extra];
const imdsEnv = (extra: Record<string, string> = {}): Record<string, string> => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost, ...extra });
const tokenOf = (out: string): string => (JSON.parse(out) as { status: { token: string } }).status.token;

describe("IMDS", () => {
  test("system-assigned: GET with Metadata: true and the resource; the second call is served from the cache", async () => {
    const before = imds.requests.length;
    const rt = testRuntime({ env: imdsEnv() });
    expect(await run(argv(), rt)).toBe(0);
    expect(rt.stderr.text()).toBe("");
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    const request = imds.requests.at(-1)!;
    expect(request.method).toBe("GET");
    expect(request.headers.metadata).toBe("true");
    expect(request.query).toEqual({ "api-version": "2018-02-01", resource: SERVER_ID });

    const again = testRuntime({ env: imdsEnv() });
    expect(await run(argv(), again)).toBe(0);
    expect(again.stdout.text()).toBe(rt.stdout.text());
    expect(imds.requests.length - before).toBe(1);
  });

  test("a stray AZURE_CLIENT_ID makes it user-assigned, and masks --identity-resource-id (as upstream)", async () => {
    const rt = testRuntime({ env: imdsEnv({ AZURE_CLIENT_ID: USER.clientId }) });
    expect(await run(argv("--identity-resource-id", "/subscriptions/s/other"), rt)).toBe(0);
    expect(imds.requests.at(-1)!.query).toEqual({ "api-version": "2018-02-01", resource: SERVER_ID, client_id: USER.clientId });
  });

  test("the user-assigned token is cached apart from the system-assigned one", async () => {
    expect(await run(argv(), testRuntime({ env: imdsEnv() }))).toBe(0);
    const before = imds.requests.length;
    expect(await run(argv("--client-id", USER.clientId), testRuntime({ env: imdsEnv() }))).toBe(0);
    expect(imds.requests.length - before).toBe(1);
  });

  test("--identity-resource-id is sent as msi_res_id; the server id's trailing slash and /.default are trimmed", async () => {
    const rt = testRuntime({ env: imdsEnv() });
    expect(await run(["get-token", "-l", "msi", "--server-id", `${SERVER_ID}/`, "--cache-dir", cacheDir, "--identity-resource-id", USER.resourceId], rt)).toBe(0);
    expect(imds.requests.at(-1)!.query).toEqual({ "api-version": "2018-02-01", resource: SERVER_ID, msi_res_id: USER.resourceId });
  });

  test("an identity not assigned to this VM is azidentity's error, with a hint naming AZURE_CLIENT_ID", async () => {
    const rt = testRuntime({ env: imdsEnv({ AZURE_CLIENT_ID: "0000aaaa-0000-4000-8000-00000000dead" }) });
    expect(await run(argv(), rt)).toBe(1);
    const [first, hint] = rt.stderr.text().split("\n");
    expect(first).toBe("Error: failed to get token: ManagedIdentityCredential: the requested identity isn't assigned to this resource");
    expect(hint).toContain("AZURE_CLIENT_ID");
    expect(rt.stdout.text()).toBe("");
  });

  describe("a wrong --server-id: IMDS relays Entra's refusal (the recorded AADSTS500011 body)", () => {
    const wrongServerId = "6dae42f8-4368-4678-94ff-3960e28e3631";
    const expected = (hint: string): string[] => [
      "Error: failed to get token: ManagedIdentityCredential authentication failed. invalid_resource: AADSTS500011: The resource principal named 6dae42f8-4368-4678-94ff-3960e28e3631 was not found in the tenant named Contoso. " +
        "This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
      hint,
      `trace id: ${IMDS_400_AADSTS500011.traceId}, correlation id: ${IMDS_400_AADSTS500011.correlationId}`,
      "",
    ];
    const serverIdHint = (from = ""): string =>
      `hint: no resource (API) matches --server-id${from} in tenant Contoso; check it: for AKS with Entra ID it is 6dae42f8-4368-4678-94ff-3960e28e3630`;

    test.each([
      ["system-assigned", [] as string[]],
      ["with --client-id", ["--client-id", USER.clientId]],
    ])("%s: Entra's code and words, a hint naming --server-id, the ids line", async (_name, extra) => {
      const rt = testRuntime({ env: imdsEnv() });
      expect(await run(["get-token", "-l", "msi", "--server-id", wrongServerId, "--cache-dir", cacheDir, ...extra], rt)).toBe(1);
      expect(rt.stderr.text().split("\n")).toEqual(expected(serverIdHint()));
      expect(rt.stdout.text()).toBe("");
    });
  });

  test("IMDS's documented invalid_resource answer (AADSTS50001, no ids) is read the same way", async () => {
    const rt = testRuntime({ env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: documented.imdsHost } });
    expect(await run(argv(), rt)).toBe(1);
    const [first, hint, ...rest] = rt.stderr.text().split("\n");
    expect(first).toBe(
      "Error: failed to get token: ManagedIdentityCredential authentication failed. invalid_resource: AADSTS50001: The application named https://management.azure.com/x was not found in the tenant named 72f988bf-86f1-41af-91ab-2d7cd011db47. " +
        "This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
    );
    expect(hint).toMatch(/^hint: no resource \(API\) matches --server-id in tenant 72f988bf-86f1-41af-91ab-2d7cd011db47;/);
    expect(rest).toEqual([""]);
  });

  test("Azure/kubelogin's recorded IMDS answer, replayed after its expiry: printed, warned about, asked for again next time", async () => {
    const recorded = await startHttpFake(() => IMDS_200_RECORDED);
    try {
      for (const call of [1, 2]) {
        const rt = testRuntime({ env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: recorded.origin } });
        expect(await run(argv("--client-id", "49a6a7eb-d4f9-444a-a216-7b966e31bb05"), rt)).toBe(0);
        expect(tokenOf(rt.stdout.text())).toBe("TEST_ACCESS_TOKEN");
        expect(rt.stderr.text()).toContain(`the token just received expired at ${IMDS_200_RECORDED.expiresOn}, before this machine's time `);
        expect(recorded.requests).toHaveLength(call);
      }
    } finally {
      await recorded.close();
    }
  });

  test("IMDS answering 503 and 410 is retried through the shared policy with IMDS's statuses (slept on the run's clock)", async () => {
    imds.failNext(503, 1);
    const before = imds.imdsRequests().length;
    const start = Date.now();
    const rt = testRuntime({ env: imdsEnv(), now: start });
    expect(await run(argv("-v", "1"), rt)).toBe(0);
    imds.failNext(410, 1);
    expect(await run(argv("-v", "1", "--client-id", USER.clientId), rt)).toBe(0);
    expect(imds.imdsRequests().length - before).toBe(4);
    const retries = rt.stderr.text().split("\n").filter((line) => line.includes("; retrying in "));
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/metadata\/identity\/oauth2\/token: answered 503; retrying in \d\.\ds \(attempt 2 of 6\)$/);
    expect(retries[1]).toMatch(/answered 410; retrying/);
    // IMDS starts from 2 s, jittered into its upper half.
    expect(rt.clock.now() - start).toBeGreaterThanOrEqual(2000);
    expect(rt.clock.now() - start).toBeLessThanOrEqual(4000);
  });

  test("--timeout bounds the retries: a wait that would pass it is not started, and IMDS's own answer is the error", async () => {
    imds.failNext(503, 100);
    const before = imds.imdsRequests().length;
    const start = Date.now();
    const rt = testRuntime({ env: imdsEnv(), now: start });
    expect(await run(argv("--timeout", "5s"), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to get token: ManagedIdentityCredential authentication failed. The imds endpoint answered 503: temporarily_unavailable: IMDS is busy");
    expect(imds.imdsRequests().length - before).toBeLessThanOrEqual(3);
    expect(rt.clock.now() - start).toBeLessThan(5000);
    imds.failNext(503, 0);
  });
});

describe("App Service / Functions (IDENTITY_ENDPOINT + IDENTITY_HEADER)", () => {
  test("GET with X-IDENTITY-HEADER and api-version 2019-08-01; expires_on as a number", async () => {
    const before = imds.appServiceRequests().length;
    const env = { IDENTITY_ENDPOINT: imds.appServiceEndpoint, IDENTITY_HEADER: imds.identityHeader, AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://127.0.0.1:9" };
    const rt = testRuntime({ env });
    expect(await run(argv("--client-id", USER.clientId, "-v", "10"), rt)).toBe(0);
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    const request = imds.appServiceRequests().at(-1)!;
    expect(request.headers["x-identity-header"]).toBe(imds.identityHeader);
    expect(request.query).toEqual({ "api-version": "2019-08-01", resource: SERVER_ID, client_id: USER.clientId });
    expect(rt.stderr.text()).not.toContain(imds.identityHeader);

    expect(await run(argv("--client-id", USER.clientId), testRuntime({ env }))).toBe(0);
    expect(imds.appServiceRequests().length - before).toBe(1);
  });
});

describe("App Service refusing an identity", () => {
  test("its message on the Error line and its correlationId on the ids line", async () => {
    const env = { IDENTITY_ENDPOINT: imds.appServiceEndpoint, IDENTITY_HEADER: imds.identityHeader };
    const rt = testRuntime({ env });
    expect(await run(argv("--client-id", "0000aaaa-0000-4000-8000-00000000dead"), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")).toEqual([
      "Error: failed to get token: ManagedIdentityCredential authentication failed. The appService endpoint answered 400: Unable to load the proper Managed Identity.",
      `trace id: none, correlation id: ${APP_SERVICE_400_UNASSIGNED_IDENTITY.correlationId}`,
      "",
    ]);
  });
});

describe("source detection and construction errors (failed to create managed identity credential)", () => {
  test.each([
    ["Cloud Shell", { MSI_ENDPOINT: "http://127.0.0.1:9/token" }, "the Cloud Shell API doesn't support user-assigned managed identities"],
    ["Azure Arc", { IDENTITY_ENDPOINT: "http://127.0.0.1:9/token", IMDS_ENDPOINT: "http://127.0.0.1:9" }, "the Azure Arc API doesn't support user-assigned managed identities"],
    [
      "Service Fabric",
      { IDENTITY_ENDPOINT: "https://127.0.0.1:9/token", IDENTITY_HEADER: "h", IDENTITY_SERVER_THUMBPRINT: "AB" },
      "the Service Fabric API doesn't support specifying a user-assigned identity at runtime. The identity is determined by cluster resource configuration. See https://aka.ms/servicefabricmi",
    ],
  ])("%s with a user-assigned identity", async (_name, env, text) => {
    const rt = testRuntime({ env });
    expect(await run(argv("--client-id", USER.clientId), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(`Error: failed to create azidentity credential: failed to create managed identity credential: ${text}`);
  });

  test("detection order follows azidentity", () => {
    const system = managedIdFor({ clientId: "", identityResourceId: "" });
    expect(detectSource({}, system)).toEqual({ kind: "imds", endpoint: "http://169.254.169.254/metadata/identity/oauth2/token" });
    expect(detectSource({ AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://10.0.0.1:8080/" }, system).endpoint).toBe("http://10.0.0.1:8080/metadata/identity/oauth2/token");
    expect(detectSource({ IDENTITY_ENDPOINT: "http://a/t", IDENTITY_HEADER: "h" }, system).kind).toBe("appService");
    expect(detectSource({ IDENTITY_ENDPOINT: "http://a/t", IDENTITY_HEADER: "h", IDENTITY_SERVER_THUMBPRINT: "x" }, system).kind).toBe("serviceFabric");
    expect(detectSource({ IDENTITY_ENDPOINT: "http://a/t", IMDS_ENDPOINT: "http://a" }, system).kind).toBe("azureArc");
    expect(detectSource({ MSI_ENDPOINT: "http://a/t", MSI_SECRET: "s" }, system).kind).toBe("azureMl");
    expect(detectSource({ MSI_ENDPOINT: "http://a/t" }, system).kind).toBe("cloudShell");
    // Workload identity variables set for other programs change nothing (unlike @azure/identity).
    expect(detectSource({ AZURE_FEDERATED_TOKEN_FILE: "/t", AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c" }, system).kind).toBe("imds");
    expect(managedIdFor({ clientId: "c", identityResourceId: "/r" })).toEqual({ kind: "clientId", value: "c" });
  });

  test("expires_on shapes: Unix seconds as number or string, App Service's date, else expires_in", () => {
    expect(expiryOf({ expires_on: 1_900_000_000 }, 0)).toBe(1_900_000_000_000);
    expect(expiryOf({ expires_on: "1900000000" }, 0)).toBe(1_900_000_000_000);
    expect(expiryOf({ expires_on: "1/2/2030 3:04:05 PM +00:00" }, 0)).toBe(Date.UTC(2030, 0, 2, 15, 4, 5));
    expect(expiryOf({ expires_in: "3599" }, 1000)).toBe(1000 + 3_599_000);
  });
});
