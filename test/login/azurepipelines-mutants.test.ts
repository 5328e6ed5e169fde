// azurepipelines at its edges: the hint of each check, the exact cache key, the OIDC request and
// every answer it may get (ids or none, a status without words, bodies that are no token, an
// endpoint that is not there, a transient 503) and the -v 5 line. The OIDC endpoint is a loopback
// peer answering as the test says; Entra is the fake, trusting its issuer.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { run } from "../../src/cli/run.js";
import { azurepipelines } from "../../src/login/azurepipelines.js";
import type { PlanContext } from "../../src/login/types.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions, type Env } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { mintFederatedToken } from "../fakes/federated-token.js";
import { startHttpFake, type HttpFake, type HttpReply } from "../fakes/http-fake.js";
import { loadTestPki } from "../support/pki.js";
import { refusingPort } from "../support/refusing-port.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID = "8c8c8c8c-0000-4000-8000-000000000031";
const ISSUER = "https://vstoken.dev.azure.com/mutants-org";
const SUBJECT = "sc://contoso/aks/mutants";
const ACCESS_TOKEN = "pipelines-access-token-value";

let dir: string;
let entra: FakeEntra;
let oidc: HttpFake;
let reply: HttpReply = { status: 500, body: "" };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-ap-mutants-"));
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [{ clientId: CLIENT_ID, federated: [{ issuer: ISSUER, subject: SUBJECT }] }] });
  oidc = await startHttpFake(() => reply);
});
afterAll(async () => {
  await Promise.all([entra.close(), oidc.close()]);
  await rm(dir, { recursive: true, force: true });
});

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(dir, "cache-"));
});

const argv = (...extra: string[]): string[] => ["get-token", "-l", "azurepipelines", "--server-id", SERVER_ID, "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra];
const jobEnv = (extra: Env = {}): Env => ({
  SYSTEM_ACCESSTOKEN: ACCESS_TOKEN,
  SYSTEM_OIDCREQUESTURI: `${oidc.origin}/oidctoken`,
  AZURESUBSCRIPTION_CLIENT_ID: CLIENT_ID,
  AZURESUBSCRIPTION_TENANT_ID: TENANT,
  AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "conn-1",
  ...extra,
});

async function runWith(env: Env, args: string[] = argv()): Promise<{ code: number; lines: string[]; stderr: string }> {
  const rt = testRuntime({ env, now: Date.now() });
  const code = await run(args, rt);
  return { code, lines: rt.stderr.text().split("\n"), stderr: rt.stderr.text() };
}

describe("the checks' hints", () => {
  test.each([
    ["tenant", { AZURESUBSCRIPTION_TENANT_ID: "" }, [], /^hint: pass --tenant-id or set AZURE_TENANT_ID or .*AZURESUBSCRIPTION_TENANT_ID/],
    ["client", { AZURESUBSCRIPTION_CLIENT_ID: "" }, [], /^hint: pass --client-id or set AZURE_CLIENT_ID or .*AZURESUBSCRIPTION_CLIENT_ID/],
    ["service connection", { AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "" }, [], /^hint: pass --azure-pipelines-service-connection-id or set AZURESUBSCRIPTION_SERVICE_CONNECTION_ID$/],
    ["OIDC URI", { SYSTEM_OIDCREQUESTURI: "" }, [], /^hint: run kubelogin inside an Azure Pipelines job \(AzureCLI@2 or a script step\)$/],
    ["tenant, variables off", {}, ["--disable-environment-override", "--client-id", CLIENT_ID], /^hint: pass --tenant-id or set it$/],
  ])("%s", async (_name, override, extra, hint) => {
    const { code, lines } = await runWith(jobEnv(override), argv(...extra));
    expect(code).toBe(1);
    expect(lines[1]).toMatch(hint);
  });
});

test("the plan: the key names authority, tenant, client, scope and connection, never the access token", async () => {
  const env = jobEnv();
  const { options, provenance } = resolveOptions(parseFlags(["-l", "azurepipelines", "--server-id", SERVER_ID, "--environment", "AzureNowhereCloud"], GET_TOKEN_OPTIONS), env, "/home/test");
  const context: PlanContext = { env, homedir: "/home/test", cacheDir: dir, state: createFileStore({ dir, now: Date.now, owns: () => true }) };
  const plan = await azurepipelines.plan(validateOptions(options, provenance), context);
  expect(plan.cacheKey).toEqual(["azurepipelines", "https://login.microsoftonline.com/", TENANT, CLIENT_ID, `${SERVER_ID}/.default`, "conn-1"]);
  expect(plan.inputs).toEqual([]);
  expect(plan.warnings).toHaveLength(1);
});

describe("the OIDC request", () => {
  test("its token is the assertion; -v 5 names the credential and never shows the access token", async () => {
    const token = mintFederatedToken({ issuer: ISSUER, subject: SUBJECT });
    reply = { status: 200, body: { oidcToken: token } };
    const { code, stderr } = await runWith(jobEnv(), argv("-v", "10"));
    expect(code).toBe(0);
    expect(oidc.requests.at(-1)!.query).toEqual({ "api-version": "7.1", serviceConnectionId: "conn-1" });
    expect(entra.tokenRequests().at(-1)!.form.client_assertion).toBe(token);
    expect(stderr).toContain("using credential: AzurePipelinesCredential");
    expect(stderr).not.toContain(ACCESS_TOKEN);
  });

  test("503 is asked again", async () => {
    let calls = 0;
    const token = mintFederatedToken({ issuer: ISSUER, subject: SUBJECT });
    const flaky = await startHttpFake(() => (++calls === 1 ? { status: 503, body: "busy" } : { status: 200, body: { oidcToken: token } }));
    try {
      const { code } = await runWith(jobEnv({ SYSTEM_OIDCREQUESTURI: `${flaky.origin}/oidctoken` }));
      expect(code).toBe(0);
      expect(calls).toBe(2);
    } finally {
      await flaky.close();
    }
  });

  test("a refusal without ids: the status and its words, the hint", async () => {
    reply = { status: 403, body: "no" };
    const { lines } = await runWith(jobEnv());
    expect(lines.slice(0, 2)).toEqual([
      "Error: failed to get token: 403 Forbidden response from the OIDC endpoint. Check service connection ID and Pipeline configuration.",
      "hint: check --azure-pipelines-service-connection-id (or AZURESUBSCRIPTION_SERVICE_CONNECTION_ID) and that the pipeline may use that service connection",
    ]);
  });

  test("a refusal with one id names only it", async () => {
    reply = { status: 401, body: "no", headers: { "x-vss-e2eid": "e2e-1", "x-msedge-ref": "" } };
    const { lines } = await runWith(jobEnv());
    expect(lines[0]).toBe("Error: failed to get token: 401 Unauthorized response from the OIDC endpoint. Check service connection ID and Pipeline configuration. x-vss-e2eid: e2e-1");
  });

  test("a status without words", async () => {
    const server = createServer((socket) => {
      socket.once("data", () => socket.end("HTTP/1.1 500 \r\ncontent-length: 0\r\nconnection: close\r\n\r\n"));
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", () => ready()));
    try {
      const { port } = server.address() as AddressInfo;
      const { lines } = await runWith(jobEnv({ SYSTEM_OIDCREQUESTURI: `http://127.0.0.1:${port}/oidctoken` }), argv("--timeout", "1s"));
      expect(lines[0]).toBe("Error: failed to get token: 500 response from the OIDC endpoint. Check service connection ID and Pipeline configuration.");
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  test.each([
    ["not JSON", "<html>"],
    ["no oidcToken", {}],
    ["an empty oidcToken", { oidcToken: "" }],
    ["an oidcToken that is not text", { oidcToken: 1 }],
  ])("a 200 with %s is an unexpected response", async (_name, body) => {
    reply = { status: 200, body };
    const { lines } = await runWith(jobEnv());
    expect(lines[0]).toBe("Error: failed to get token: unexpected response from OIDC endpoint");
  });

  test("an endpoint that is not there is named, with the way out", async () => {
    const refusing = await refusingPort();
    try {
      const { lines } = await runWith(jobEnv({ SYSTEM_OIDCREQUESTURI: `http://127.0.0.1:${refusing.port}/oidctoken` }));
      expect(lines.slice(0, 2)).toEqual([
        `Error: failed to get token: couldn't send OIDC token request: could not reach the Azure Pipelines OIDC endpoint at http://127.0.0.1:${refusing.port}: ECONNREFUSED`,
        `hint: nothing accepts connections at 127.0.0.1:${refusing.port}; check SYSTEM_OIDCREQUESTURI; the agent must reach its Azure DevOps organization (HTTPS_PROXY / NO_PROXY if it needs a proxy)`,
      ]);
    } finally {
      await refusing.close();
    }
  });
});

test("the strategy's mode", () => {
  expect(azurepipelines.mode).toBe("azurepipelines");
});
