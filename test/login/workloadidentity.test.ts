// get-token -l workloadidentity in-process (compat spec §3.11): the token-file variant and the
// GitHub Actions variant, against fake Entra's federated credentials.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { mintFederatedToken } from "../fakes/federated-token.js";
import { GITHUB_ISSUER, startFakeGitHubOidc, type FakeGitHubOidc } from "../fakes/fake-github-oidc.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AKS_ISSUER = "https://westeurope.oic.prod-aks.azure.com/72f988bf/6a1b2c3d/";
const POD_SUBJECT = "system:serviceaccount:default:deployer";
const POD_APP = { clientId: "7b7b7b7b-0000-4000-8000-000000000001", federated: [{ issuer: AKS_ISSUER, subject: POD_SUBJECT }] };
const GH_APP = { clientId: "7b7b7b7b-0000-4000-8000-000000000002", federated: [{ issuer: GITHUB_ISSUER, subject: "repo:contoso/aks-deploy:ref:refs/heads/main" }] };

let entra: FakeEntra;
let github: FakeGitHubOidc;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [POD_APP, GH_APP] });
  github = await startFakeGitHubOidc();
});
afterAll(async () => {
  await Promise.all([entra.close(), github.close()]);
});

let dir: string;
let tokenFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-wi-"));
  tokenFile = join(dir, "azure-identity-token");
  await writeFile(tokenFile, mintFederatedToken({ issuer: AKS_ISSUER, subject: POD_SUBJECT }));
});

const argv = (...extra: string[]): string[] => ["get-token", "-l", "workloadidentity", "--server-id", SERVER_ID, "--cache-dir", join(dir, "cache"), ...extra];
/** What the AKS workload identity webhook injects into a pod. */
const podEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  AZURE_CLIENT_ID: POD_APP.clientId,
  AZURE_TENANT_ID: TENANT,
  AZURE_FEDERATED_TOKEN_FILE: tokenFile,
  AZURE_AUTHORITY_HOST: entra.url,
  ...extra,
});
const tokenOf = (out: string): string => (JSON.parse(out) as { status: { token: string } }).status.token;

describe("token file (the AKS webhook's environment)", () => {
  test("the file's content is the client assertion; the second call is served from the cache", async () => {
    const before = entra.tokenRequests().length;
    const rt = testRuntime({ env: podEnv() });
    expect(await run(argv(), rt)).toBe(0);
    expect(rt.stderr.text()).toBe("");
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    const form = entra.tokenRequests().at(-1)!.form;
    expect(form).toMatchObject({
      client_id: POD_APP.clientId,
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    });
    expect(entra.tokenRequests().at(-1)!.path).toBe(`/${TENANT}/oauth2/v2.0/token`);

    expect(await run(argv(), testRuntime({ env: podEnv() }))).toBe(0);
    expect(entra.tokenRequests().length - before).toBe(1);
  });

  test("a rotated file is read again for the next assertion", async () => {
    expect(await run(argv(), testRuntime({ env: podEnv() }))).toBe(0);
    const rotated = mintFederatedToken({ issuer: AKS_ISSUER, subject: POD_SUBJECT });
    await writeFile(tokenFile, `${rotated}\n`);
    // Another scope, so the cache does not answer: the token request needs a new assertion.
    expect(await run(["get-token", "-l", "workloadidentity", "--server-id", "api://other-server", "--cache-dir", join(dir, "cache")], testRuntime({ env: podEnv() }))).toBe(0);
    expect(entra.tokenRequests().at(-1)!.form.client_assertion).toBe(rotated);
  });

  test("flags work too, and AZURE_AUTHORITY_HOST is honoured only in this mode", async () => {
    const rt = testRuntime({ env: { AZURE_AUTHORITY_HOST: entra.url } });
    expect(await run(argv("--client-id", POD_APP.clientId, "--tenant-id", TENANT, "--federated-token-file", tokenFile), rt)).toBe(0);
    // In spn mode the same variable means nothing: the public cloud is used (and fails offline here).
    const spn = testRuntime({ env: { AZURE_AUTHORITY_HOST: "not a url" } });
    expect(await run(["get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", "c", "--tenant-id", TENANT], spn)).toBe(1);
    expect(spn.stderr.text()).not.toContain("authority host");
  });

  test("AZURE_AUTHORITY_HOST without the trailing slash fails validation", async () => {
    const rt = testRuntime({ env: podEnv({ AZURE_AUTHORITY_HOST: entra.url.slice(0, -1) }) });
    expect(await run(argv(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(`Error: authority host "${entra.url.slice(0, -1)}" should have a trailing slash`);
  });

  test.each([
    ["client ID cannot be empty", { AZURE_CLIENT_ID: "" }],
    ["tenant ID cannot be empty", { AZURE_TENANT_ID: "" }],
    ["federated token file cannot be empty", { AZURE_FEDERATED_TOKEN_FILE: "" }],
  ])("%s", async (text, override) => {
    const rt = testRuntime({ env: podEnv(override) });
    expect(await run(argv(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(`Error: failed to create azidentity credential: ${text}`);
  });

  test("an expired projected token is Entra's AADSTS700024 with a hint naming the file's variable", async () => {
    await writeFile(tokenFile, mintFederatedToken({ issuer: AKS_ISSUER, subject: POD_SUBJECT, lifetimeSeconds: -60 }));
    const rt = testRuntime({ env: podEnv() });
    expect(await run(argv(), rt)).toBe(1);
    const [first, hint] = rt.stderr.text().split("\n");
    expect(first).toMatch(/^Error: failed to get token: invalid_client: AADSTS700024: Client assertion is not within its valid time range/);
    expect(hint).toBe("hint: the federated token has expired; check that --federated-token-file (set by AZURE_FEDERATED_TOKEN_FILE) is being refreshed");
  });

  test("a missing token file is Go's open error", async () => {
    const rt = testRuntime({ env: podEnv({ AZURE_FEDERATED_TOKEN_FILE: join(dir, "missing") }) });
    expect(await run(argv(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(`Error: failed to get token: open ${join(dir, "missing")}: no such file or directory`);
  });
});

describe("GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL + ACTIONS_ID_TOKEN_REQUEST_TOKEN)", () => {
  const ghEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
    ...extra,
  });
  const ghArgs = (...extra: string[]): string[] => argv("--client-id", GH_APP.clientId, "--tenant-id", TENANT, "--authority-host", entra.url, ...extra);

  test("upstream's request (URL + audience, bearer, both headers), read even with --disable-environment-override; then cached", async () => {
    const before = github.requests.length;
    const rt = testRuntime({ env: ghEnv({ AZURE_CLIENT_ID: "ignored-because-of-the-flag-below" }) });
    expect(await run(ghArgs("--disable-environment-override", "-v", "10"), rt)).toBe(0);
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    const request = github.requests.at(-1)!;
    expect(request.method).toBe("GET");
    expect(request.query).toEqual({ "api-version": "2.0", audience: "api://AzureADTokenExchange" });
    expect(request.headers.authorization).toBe(`bearer ${github.requestToken}`);
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers.accept).toBe("application/json; api-version=2.0");
    expect(rt.stderr.text()).toContain("using credential: GithubActionsCredential");
    expect(rt.stderr.text()).not.toContain(github.requestToken);

    expect(await run(ghArgs(), testRuntime({ env: ghEnv() }))).toBe(0);
    expect(github.requests.length - before).toBe(1);
  });

  test("the token-file variant's cached token is not served to the GitHub variant", async () => {
    const args = ["get-token", "-l", "workloadidentity", "--server-id", SERVER_ID, "--cache-dir", join(dir, "cache"), "--client-id", POD_APP.clientId, "--tenant-id", TENANT, "--authority-host", entra.url];
    expect(await run([...args, "--federated-token-file", tokenFile], testRuntime())).toBe(0);
    const before = github.requests.length;
    // Same client, tenant, scope: only the variant differs (and Entra refuses GitHub's subject for this app).
    const rt = testRuntime({ env: ghEnv() });
    expect(await run(args, rt)).toBe(1);
    expect(github.requests.length - before).toBe(1);
    expect(rt.stderr.text()).toContain("AADSTS70021");
  });

  test("a non-200 answer is upstream's text with the body", async () => {
    github.failNext({ status: 403, body: { message: "Resource not accessible by integration" } });
    const rt = testRuntime({ env: ghEnv() });
    expect(await run(ghArgs(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(
      'Error: failed to get token: github actions ID token request failed with status code: 403, response body: {"message":"Resource not accessible by integration"}',
    );
  });

  test("an empty value is 'github actions ID token is empty'", async () => {
    github.failNext({ status: 200, body: { value: "" } });
    const rt = testRuntime({ env: ghEnv() });
    expect(await run(ghArgs(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to get token: github actions ID token is empty");
  });

  test.each([
    ["::not a url", 'Error: failed to get token: unable to parse ACTIONS_ID_TOKEN_REQUEST_URL: parse "::not a url": missing protocol scheme'],
    // Go parses these, and upstream's request then fails on the scheme.
    ["notaurl", 'Error: failed to get token: Get "notaurl?audience=api%3A%2F%2FAzureADTokenExchange": unsupported protocol scheme ""'],
    ["ftp://example.com/t?z=1&a=b c", 'Error: failed to get token: Get "ftp://example.com/t?a=b+c&audience=api%3A%2F%2FAzureADTokenExchange&z=1": unsupported protocol scheme "ftp"'],
  ])("ACTIONS_ID_TOKEN_REQUEST_URL=%s fails as upstream's does, without a request", async (requestUrl, firstLine) => {
    const before = github.requests.length;
    const rt = testRuntime({ env: ghEnv({ ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl }) });
    expect(await run(ghArgs(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(firstLine);
    expect(github.requests.length).toBe(before);
  });

  test("client and tenant are required, the token file is not", async () => {
    const rt = testRuntime({ env: ghEnv() });
    expect(await run(argv("--tenant-id", TENANT), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to create azidentity credential: client ID cannot be empty");
  });
});
