// workloadidentity at its edges: which variant each environment picks, the checks and their hints,
// the exact cache key of each variant, the token file as read, the GitHub Actions ID-token request
// (its URL as Go would print it, every answer it may get, an endpoint that is not there) and the
// -v 5 lines. The GitHub endpoint is a loopback peer answering as the test says; Entra is the fake.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { run } from "../../src/cli/run.js";
import type { PlanContext } from "../../src/login/types.js";
import { variantFor, workloadidentity } from "../../src/login/workloadidentity.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions, type Env } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { GITHUB_ISSUER } from "../fakes/fake-github-oidc.js";
import { mintFederatedToken } from "../fakes/federated-token.js";
import { startHttpFake, type HttpFake, type HttpReply } from "../fakes/http-fake.js";
import { loadTestPki } from "../support/pki.js";
import { refusingPort } from "../support/refusing-port.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AKS_ISSUER = "https://westeurope.oic.prod-aks.azure.com/72f988bf/6a1b2c3d/";
const POD_SUBJECT = "system:serviceaccount:default:mutants";
const GH_SUBJECT = "repo:contoso/mutants:ref:refs/heads/main";
const POD_APP = { clientId: "7b7b7b7b-0000-4000-8000-000000000031", federated: [{ issuer: AKS_ISSUER, subject: POD_SUBJECT }] };
const GH_APP = { clientId: "7b7b7b7b-0000-4000-8000-000000000032", federated: [{ issuer: GITHUB_ISSUER, subject: GH_SUBJECT }] };

let dir: string;
let entra: FakeEntra;
let github: HttpFake;
let reply: HttpReply = { status: 500, body: "" };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-wi-mutants-"));
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [POD_APP, GH_APP] });
  github = await startHttpFake(() => reply);
});
afterAll(async () => {
  await Promise.all([entra.close(), github.close()]);
  await rm(dir, { recursive: true, force: true });
});

let cacheDir: string;
let tokenFile: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(dir, "cache-"));
  tokenFile = join(cacheDir, "token");
  await writeFile(tokenFile, mintFederatedToken({ issuer: AKS_ISSUER, subject: POD_SUBJECT }));
});

const argv = (...extra: string[]): string[] => ["get-token", "-l", "workloadidentity", "--server-id", SERVER_ID, "--cache-dir", cacheDir, ...extra];
const ghArgs = (...extra: string[]): string[] => argv("--client-id", GH_APP.clientId, "--tenant-id", TENANT, "--authority-host", entra.url, ...extra);
const ghEnv = (url = `${github.origin}/idtoken?api-version=2.0`): Env => ({ ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "gh-request-token" });
const ghToken = (): string => mintFederatedToken({ issuer: GITHUB_ISSUER, subject: GH_SUBJECT });

async function runWith(env: Env, args: string[]): Promise<{ code: number; lines: string[]; stdout: string; stderr: string }> {
  const rt = testRuntime({ env, now: Date.now() });
  const code = await run(args, rt);
  return { code, lines: rt.stderr.text().split("\n"), stdout: rt.stdout.text(), stderr: rt.stderr.text() };
}

function optionsFor(args: readonly string[], env: Env) {
  const { options, provenance } = resolveOptions(parseFlags(["-l", "workloadidentity", "--server-id", SERVER_ID, ...args], GET_TOKEN_OPTIONS), env, "/home/test");
  return validateOptions(options, provenance);
}
const contextFor = (env: Env): PlanContext => ({ env, homedir: "/home/test", cacheDir: dir, state: createFileStore({ dir, now: Date.now, owns: () => true }) });

describe("the variant", () => {
  test("GitHub Actions only when both variables have a value", () => {
    const o = optionsFor(["--federated-token-file", "/t"], {});
    expect(variantFor(o, { ACTIONS_ID_TOKEN_REQUEST_URL: "http://u", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" })).toEqual({ kind: "github-actions", requestUrl: "http://u", requestToken: "t" });
    expect(variantFor(o, { ACTIONS_ID_TOKEN_REQUEST_URL: "http://u", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "" })).toEqual({ kind: "token-file", path: "/t" });
    expect(variantFor(o, { ACTIONS_ID_TOKEN_REQUEST_URL: "", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" })).toEqual({ kind: "token-file", path: "/t" });
    expect(variantFor(o, { ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" })).toEqual({ kind: "token-file", path: "/t" });
    expect(variantFor(o, { ACTIONS_ID_TOKEN_REQUEST_URL: "http://u" })).toEqual({ kind: "token-file", path: "/t" });
  });
});

describe("the plan", () => {
  test("the token file's key names its path; GitHub's does not; no inputs, the authority's warnings", async () => {
    const env: Env = {};
    const file = await workloadidentity.plan(optionsFor(["--client-id", "c", "--tenant-id", TENANT, "--federated-token-file", "/var/run/token"], env), contextFor(env));
    expect(file.cacheKey).toEqual(["workloadidentity", "token-file", "https://login.microsoftonline.com/", TENANT, "c", `${SERVER_ID}/.default`, "/var/run/token"]);
    expect(file.inputs).toEqual([]);
    expect(file.warnings).toEqual([]);
    const gh = ghEnv("http://u");
    const actions = await workloadidentity.plan(optionsFor(["--client-id", "c", "--tenant-id", TENANT, "--environment", "AzureNowhereCloud"], gh), contextFor(gh));
    expect(actions.cacheKey).toEqual(["workloadidentity", "github-actions", "https://login.microsoftonline.com/", TENANT, "c", `${SERVER_ID}/.default`]);
    expect(actions.warnings).toHaveLength(1);
  });

  test.each([
    ["client", ["--tenant-id", TENANT, "--federated-token-file", "/t"], "failed to create azidentity credential: client ID cannot be empty", "hint: pass --client-id or set AZURE_CLIENT_ID or AAD_SERVICE_PRINCIPAL_CLIENT_ID"],
    ["tenant", ["--client-id", "c", "--federated-token-file", "/t"], "failed to create azidentity credential: tenant ID cannot be empty", "hint: pass --tenant-id or set AZURE_TENANT_ID"],
    ["token file", ["--client-id", "c", "--tenant-id", TENANT], "failed to create azidentity credential: federated token file cannot be empty", "hint: pass --federated-token-file or set AZURE_FEDERATED_TOKEN_FILE"],
  ])("a missing %s is named with its flag and variable", async (_name, args, text, hint) => {
    const { code, lines } = await runWith({}, argv(...args));
    expect(code).toBe(1);
    expect(lines.slice(0, 2)).toEqual([`Error: ${text}`, hint]);
  });

  test("a tenant that cannot be one: the token file's error says which credential, GitHub's does not", async () => {
    const file = await runWith({}, argv("--client-id", "c", "--tenant-id", "a/b", "--federated-token-file", "/t"));
    expect(file.lines[0]).toMatch(/^Error: failed to create azidentity credential: failed to create workload identity credential: invalid tenantID\. /);
    const gh = await runWith(ghEnv(), argv("--client-id", "c", "--tenant-id", "a/b"));
    expect(gh.lines[0]).toMatch(/^Error: failed to create azidentity credential: invalid tenantID\. /);
  });
});

describe("the token file", () => {
  test("read trimmed; -v 5 names the credential and the scope", async () => {
    const token = mintFederatedToken({ issuer: AKS_ISSUER, subject: POD_SUBJECT });
    await writeFile(tokenFile, `\n ${token} \n`);
    const { code, stderr } = await runWith({}, argv("--client-id", POD_APP.clientId, "--tenant-id", TENANT, "--authority-host", entra.url, "--federated-token-file", tokenFile, "-v", "5"));
    expect(code).toBe(0);
    expect(entra.tokenRequests().at(-1)!.form.client_assertion).toBe(token);
    expect(stderr).toContain("using credential: WorkloadIdentityCredential");
    expect(stderr).toContain(`getting token with scopes: [${SERVER_ID}/.default]`);
  });

  test("a file that cannot be read: Go's text and the hint", async () => {
    const { lines } = await runWith({}, argv("--client-id", POD_APP.clientId, "--tenant-id", TENANT, "--authority-host", entra.url, "--federated-token-file", join(dir, "gone")));
    expect(lines.slice(0, 2)).toEqual([
      `Error: failed to get token: open ${join(dir, "gone")}: no such file or directory`,
      "hint: check --federated-token-file (or AZURE_FEDERATED_TOKEN_FILE): in AKS the workload identity webhook mounts it when the pod's service account is annotated",
    ]);
  });
});

describe("the GitHub Actions ID token", () => {
  test("the request: the URL's own query kept, the audience added, the request token as bearer; the ID token is the assertion", async () => {
    const token = ghToken();
    reply = { status: 200, body: { value: token } };
    const before = github.requests.length;
    const { code, stderr } = await runWith(ghEnv(`${github.origin}/idtoken?api-version=2.0&audience=replaced`), ghArgs("-v", "10"));
    expect(code).toBe(0);
    expect(github.requests.length - before).toBe(1);
    const request = github.requests.at(-1)!;
    expect(request.method).toBe("GET");
    expect(request.query).toEqual({ "api-version": "2.0", audience: "api://AzureADTokenExchange" });
    expect(request.headers.authorization).toBe("bearer gh-request-token");
    expect(entra.tokenRequests().at(-1)!.form.client_assertion).toBe(token);
    expect(stderr).toContain("using credential: GithubActionsCredential");
    expect(stderr).not.toContain("gh-request-token");
  });

  test("a URL with an upper-case scheme is taken", async () => {
    reply = { status: 200, body: { value: ghToken() } };
    const { code } = await runWith(ghEnv(`HTTP://${github.origin.slice("http://".length)}/idtoken`), ghArgs());
    expect(code).toBe(0);
  });

  test("an https URL is taken as well (here Entra's, which has no such path)", async () => {
    const { lines } = await runWith(ghEnv(`${entra.url}no-such-idtoken`), ghArgs());
    expect(lines[0]).toMatch(/^Error: failed to get token: github actions ID token request failed with status code: 400, response body: .*AADSTS90023: Fake Entra has no route for GET \/no-such-idtoken/);
  });

  test("Entra refusing an expired ID token does not blame a token file", async () => {
    reply = { status: 200, body: { value: mintFederatedToken({ issuer: GITHUB_ISSUER, subject: GH_SUBJECT, lifetimeSeconds: -60 }) } };
    const { code, lines, stderr } = await runWith(ghEnv(), ghArgs());
    expect(code).toBe(1);
    expect(lines[0]).toMatch(/^Error: failed to get token: invalid_client: AADSTS700024: /);
    expect(stderr).not.toContain("federated-token-file");
  });

  test("the strategy's mode", () => {
    expect(workloadidentity.mode).toBe("workloadidentity");
  });

  test("503 is asked again", async () => {
    let calls = 0;
    const token = ghToken();
    const before = github.requests.length;
    reply = { status: 503, body: "busy" };
    const flaky = startHttpFake(() => (++calls === 1 ? { status: 503, body: "busy" } : { status: 200, body: { value: token } }));
    const peer = await flaky;
    try {
      const { code } = await runWith(ghEnv(`${peer.origin}/idtoken`), ghArgs());
      expect(code).toBe(0);
      expect(calls).toBe(2);
    } finally {
      await peer.close();
    }
    expect(github.requests.length).toBe(before);
  });

  test.each([
    ["a body that is not JSON", { status: 200, body: "not json" }, /^Error: failed to get token: Unexpected token 'o', "not json" is not valid JSON$/],
    ["no value", { status: 200, body: {} }, /^Error: failed to get token: github actions ID token is empty$/],
    ["a value that is not text", { status: 200, body: { value: 5 } }, /^Error: failed to get token: github actions ID token is empty$/],
    ["JSON null", { status: 200, body: "null" }, /^Error: failed to get token: Cannot read properties of null/],
  ])("%s is refused", async (_name, answer, firstLine) => {
    reply = answer;
    const { code, lines } = await runWith(ghEnv(), ghArgs());
    expect(code).toBe(1);
    expect(lines[0]).toMatch(firstLine);
  });

  test("a refusal carries the permissions hint", async () => {
    reply = { status: 401, body: "denied" };
    const { lines } = await runWith(ghEnv(), ghArgs());
    expect(lines.slice(0, 2)).toEqual([
      "Error: failed to get token: github actions ID token request failed with status code: 401, response body: denied",
      "hint: the job needs `permissions: id-token: write`; the request token is valid only while the job runs",
    ]);
  });

  test("an endpoint that is not there is named, with the way out", async () => {
    const refusing = await refusingPort();
    try {
      const { lines } = await runWith(ghEnv(`http://127.0.0.1:${refusing.port}/idtoken`), ghArgs());
      expect(lines.slice(0, 2)).toEqual([
        `Error: failed to get token: github actions ID token request failed: could not reach the GitHub Actions ID token endpoint at http://127.0.0.1:${refusing.port}: ECONNREFUSED`,
        `hint: nothing accepts connections at 127.0.0.1:${refusing.port}; the runner must reach ACTIONS_ID_TOKEN_REQUEST_URL (HTTPS_PROXY / NO_PROXY if it needs a proxy)`,
      ]);
    } finally {
      await refusing.close();
    }
  });

  test.each([
    [":x", 'unable to parse ACTIONS_ID_TOKEN_REQUEST_URL: parse ":x": missing protocol scheme'],
    ["https://", 'unable to parse ACTIONS_ID_TOKEN_REQUEST_URL: parse "https://": invalid URL'],
    ["1http://h/t", 'Get "1http://h/t?audience=api%3A%2F%2FAzureADTokenExchange": unsupported protocol scheme ""'],
    ["file:/t#frag", 'Get "file:/t?audience=api%3A%2F%2FAzureADTokenExchange#frag": unsupported protocol scheme "file"'],
    ["ftp://h/t?b=1&a=x&b=2#f?g", 'Get "ftp://h/t?a=x&audience=api%3A%2F%2FAzureADTokenExchange&b=1&b=2#f?g": unsupported protocol scheme "ftp"'],
    ["ftp://h/t?q=(a)!*'~._-", 'Get "ftp://h/t?audience=api%3A%2F%2FAzureADTokenExchange&q=%28a%29%21%2A%27~._-": unsupported protocol scheme "ftp"'],
  ])("ACTIONS_ID_TOKEN_REQUEST_URL=%s", async (url, text) => {
    const { code, lines } = await runWith(ghEnv(url), ghArgs());
    expect(code).toBe(1);
    expect(lines.slice(0, 2)).toEqual([`Error: failed to get token: ${text}`, "hint: ACTIONS_ID_TOKEN_REQUEST_URL is set by GitHub Actions when the job has `permissions: id-token: write`; do not set it by hand"]);
  });
});
