// Transient faults (issue 12, item 1): 5xx, 429 and dropped connections are retried with backoff
// on the run's clock, honouring Retry-After, never past --timeout; Entra's refusals are final.
// In-process against the fake peers over real HTTPS, on a clock that moves only when code sleeps.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { requestOidcToken } from "../../src/login/azurepipelines.js";
import { retryAfterMs } from "../../src/login/http.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { GITHUB_ISSUER, startFakeGitHubOidc, type FakeGitHubOidc } from "../fakes/fake-github-oidc.js";
import { startHttpFake } from "../fakes/http-fake.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = { clientId: "5b1c8f07-5c43-4a5e-b0b4-8c8a6a0d6e21", secret: "retry-Secret.value" };
const GH_APP = { clientId: "7b7b7b7b-0000-4000-8000-000000000009", federated: [{ issuer: GITHUB_ISSUER, subject: "repo:contoso/aks-deploy:ref:refs/heads/main" }] };

let entra: FakeEntra;
let github: FakeGitHubOidc;
let dir: string;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [APP, GH_APP] });
  github = await startFakeGitHubOidc();
  dir = await mkdtemp(join(tmpdir(), "kubelogin-retry-"));
});
afterAll(async () => {
  await Promise.all([entra.close(), github.close()]);
  await rm(dir, { recursive: true, force: true });
});

const spn = async (...extra: string[]): Promise<string[]> => [
  "get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", APP.clientId, "--tenant-id", TENANT,
  "--authority-host", entra.url, "--cache-dir", await mkdtemp(join(dir, "cache-")), ...extra,
];
const tokenOf = (out: string): string => (JSON.parse(out) as { status: { token: string } }).status.token;
const retryLines = (stderr: string): string[] => stderr.split("\n").filter((line) => line.includes("; retrying in "));

describe("spn (MSAL through fetchNetworkClient)", () => {
  test("503, 503, then 200 ends in a token after two retries, each one -v 1 line", async () => {
    entra.injectFaults([{ status: 503 }, { status: 503 }]);
    const before = entra.tokenRequests().length;
    const start = Date.now();
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret }, now: start });
    expect(await run(await spn("-v", "1"), rt)).toBe(0);
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    expect(entra.tokenRequests().length - before).toBe(3);
    const lines = retryLines(rt.stderr.text());
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/POST https:\/\/127\.0\.0\.1:\d+\/[^ ]+\/oauth2\/v2\.0\/token: answered 503; retrying in \d\.\ds \(attempt 2 of 4\)$/);
    // Backoff with jitter: 0.5-1 s, then 1-2 s.
    expect(rt.clock.now() - start).toBeGreaterThanOrEqual(1500);
    expect(rt.clock.now() - start).toBeLessThanOrEqual(3000);
  });

  test("429 with Retry-After: 1, then 200: waits exactly the second it was asked to", async () => {
    entra.injectFaults([{ status: 429, headers: { "Retry-After": "1" }, body: { error: "temporarily_unavailable", error_description: "AADSTS50196: throttled" } }]);
    const start = Date.now();
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret }, now: start });
    expect(await run(await spn("-v", "1"), rt)).toBe(0);
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    expect(rt.clock.now() - start).toBe(1000);
    expect(retryLines(rt.stderr.text())[0]).toMatch(/answered 429; retrying in 1\.0s/);
  });

  test("Retry-After as an HTTP date is honoured too", async () => {
    const start = Date.parse("2031-01-01T00:00:00Z");
    entra.injectFaults([{ status: 503, headers: { "Retry-After": new Date(start + 3000).toUTCString() } }]);
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret }, now: start });
    expect(await run(await spn(), rt)).toBe(0);
    expect(rt.clock.now() - start).toBe(3000);
  });

  test("a connection reset is retried", async () => {
    entra.injectFaults(["reset"]);
    const before = entra.tokenRequests().length;
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret }, now: Date.now() });
    expect(await run(await spn("-v", "1"), rt)).toBe(0);
    expect(entra.tokenRequests().length - before).toBe(2);
    expect(retryLines(rt.stderr.text())[0]).toMatch(/connection reset \((ECONNRESET|UND_ERR_SOCKET)\); retrying/);
  });

  test("a refusal with an AADSTS code (wrong secret) is final: one request, no retry", async () => {
    const before = entra.tokenRequests().length;
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: "wrong-secret" }, now: Date.now() });
    expect(await run(await spn("-v", "1"), rt)).toBe(1);
    expect(entra.tokenRequests().length - before).toBe(1);
    expect(retryLines(rt.stderr.text())).toEqual([]);
    expect(rt.stderr.text()).toMatch(/^Error: failed to get token: invalid_client: AADSTS7000215: /m);
  });

  test("a server that stays down is asked at most 4 times, then its own answer is the error", async () => {
    entra.injectFaults(Array(4).fill({ status: 503 }));
    const before = entra.tokenRequests().length;
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret }, now: Date.now() });
    expect(await run(await spn(), rt)).toBe(1);
    expect(entra.tokenRequests().length - before).toBe(4);
    expect(rt.stderr.text().split("\n")[0]).toContain("AADSTS90033");
  });

  test("no retry waits past --timeout: a Retry-After beyond it ends the run with the answer at once", async () => {
    entra.injectFaults([{ status: 429, headers: { "Retry-After": "30" } }]);
    const before = entra.tokenRequests().length;
    const start = Date.now();
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret }, now: start });
    expect(await run(await spn("--timeout", "10s", "-v", "1"), rt)).toBe(1);
    expect(entra.tokenRequests().length - before).toBe(1);
    expect(rt.clock.now()).toBe(start);
    expect(rt.stderr.text()).toContain("answered 429; not retrying, --timeout would pass first");
  });

  test("a server that never answers does not outlive --timeout", async () => {
    entra.injectFaults(["hang"]);
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret } });
    expect(await run(await spn("--timeout", "1s"), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to get token: context deadline exceeded");
  });
});

test("spn --legacy (ADAL v1 requests): 503 then 200 ends in a token", async () => {
  entra.injectFaults([{ status: 503 }]);
  const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret }, now: Date.now() });
  expect(await run(await spn("--legacy", "-v", "1"), rt)).toBe(0);
  expect(retryLines(rt.stderr.text())[0]).toMatch(/POST https:\/\/127\.0\.0\.1:\d+\/[^ ]+\/oauth2\/token: answered 503; retrying/);
});

test("workloadidentity on GitHub Actions: the ID token endpoint's 502 is retried", async () => {
  github.failNext({ status: 502, body: "Bad Gateway" });
  const before = github.requests.length;
  const env = { ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken };
  const rt = testRuntime({ env, now: Date.now() });
  const argv = ["get-token", "-l", "workloadidentity", "--server-id", SERVER_ID, "--client-id", GH_APP.clientId, "--tenant-id", TENANT,
    "--authority-host", entra.url, "--cache-dir", await mkdtemp(join(dir, "cache-")), "-v", "1"];
  expect(await run(argv, rt)).toBe(0);
  expect(github.requests.length - before).toBe(2);
  expect(retryLines(rt.stderr.text())[0]).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/_apis\/.*: answered 502; retrying/);
});

test("azurepipelines: the OIDC endpoint's 503 is retried", async () => {
  let calls = 0;
  const oidc = await startHttpFake(() => (++calls === 1 ? { status: 503, body: "busy" } : { status: 200, body: { oidcToken: "header.claims.signature" } }));
  const rt = testRuntime({ now: Date.now() });
  const deps = { rt, log: rt.logger(1), signal: new AbortController().signal, deadline: rt.clock.now() + 60_000 };
  const request = { oidcRequestUri: `${oidc.origin}/oidctoken`, serviceConnectionId: "sc-1", systemAccessToken: "system-access-token" };
  expect(await requestOidcToken(request, deps)).toBe("header.claims.signature");
  expect(calls).toBe(2);
  expect(retryLines(rt.stderr.text())[0]).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/oidctoken: answered 503; retrying/);
  await oidc.close();
});

describe("retryAfterMs", () => {
  const now = Date.parse("2031-01-01T00:00:00Z");
  test.each([
    ["1", 1000],
    [" 120 ", 120_000],
    ["Wed, 01 Jan 2031 00:00:05 GMT", 5000],
    ["Tue, 31 Dec 2030 23:59:00 GMT", 0],
    ["soon", undefined],
    ["-1", undefined],
  ])("%j → %s ms", (header, expected) => {
    expect(retryAfterMs(header, now)).toBe(expected);
  });
  test("absent", () => expect(retryAfterMs(null, now)).toBeUndefined());
});
