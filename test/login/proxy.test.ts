// Proxies (issue 12, item 3): which requests go through HTTPS_PROXY / HTTP_PROXY, and get-token
// in-process through a real CONNECT proxy on loopback (test/fakes/fake-proxy.ts). Fake Entra goes
// by entra.kubelogin.test, a name only the proxy resolves: a token proves the proxy carried it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { bypassed, proxyFor } from "../../src/proxy.js";
import { proxyAwareFetch } from "../../src/runtime.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { startFakeImds, type FakeImds } from "../fakes/fake-imds.js";
import { startFakeProxy, type FakeProxy } from "../fakes/fake-proxy.js";
import { loadTestPki } from "../support/pki.js";
import { refusingPort, type RefusingPort } from "../support/refusing-port.js";
import { testRuntime } from "../support/runtime.js";

describe("proxyFor", () => {
  const P = "http://proxy.corp:3128";
  test.each([
    ["https://login.microsoftonline.com/t/oauth2/v2.0/token", { HTTPS_PROXY: P }, P],
    ["https://login.microsoftonline.com/", { https_proxy: P }, P],
    ["https://login.microsoftonline.com/", { HTTPS_PROXY: "proxy.corp:3128" }, P],
    ["https://login.microsoftonline.com/", { HTTP_PROXY: P }, undefined],
    ["http://example.com/", { HTTP_PROXY: P }, P],
    ["http://example.com/", { http_proxy: P }, P],
    ["https://login.microsoftonline.com/", { HTTPS_PROXY: "" }, undefined],
    ["https://login.microsoftonline.com/", {}, undefined],
    // IMDS and loopback: always direct.
    ["http://169.254.169.254/metadata/identity/oauth2/token", { HTTP_PROXY: P, HTTPS_PROXY: P }, undefined],
    ["http://127.0.0.1:8400/", { HTTP_PROXY: P }, undefined],
    ["https://localhost:8443/", { HTTPS_PROXY: P }, undefined],
    ["https://[::1]:8443/", { HTTPS_PROXY: P }, undefined],
    ["https://login.microsoftonline.com/", { HTTPS_PROXY: P, NO_PROXY: "*" }, undefined],
    ["https://login.microsoftonline.com/", { HTTPS_PROXY: P, no_proxy: "microsoftonline.com" }, undefined],
    ["https://login.microsoftonline.com/", { HTTPS_PROXY: P, NO_PROXY: "other.com" }, P],
  ] as const)("%s with %j → %s", (url, env, expected) => {
    expect(proxyFor(url, env)).toBe(expected);
  });

  test.each([
    ["login.microsoftonline.com", "443", "microsoftonline.com", true],
    ["microsoftonline.com", "443", "microsoftonline.com", true],
    ["login.microsoftonline.com", "443", ".microsoftonline.com", true],
    ["microsoftonline.com", "443", ".microsoftonline.com", false],
    ["login.microsoftonline.com", "443", "*.microsoftonline.com", true],
    ["notmicrosoftonline.com", "443", "microsoftonline.com", false],
    ["login.microsoftonline.com", "443", "LOGIN.microsoftonline.com", true],
    ["login.microsoftonline.com", "443", "login.microsoftonline.com:443", true],
    ["login.microsoftonline.com", "443", "login.microsoftonline.com:8443", false],
    ["10.1.2.3", "443", "10.0.0.0/8", true],
    ["11.1.2.3", "443", "10.0.0.0/8", false],
    ["10.1.2.3", "443", "10.1.2.3", true],
    ["10.1.2.3", "443", "a.com, b.com 10.1.2.3", true],
    ["a.com", "443", "", false],
    ["a.com", "443", "*", true],
    ["fd00::1", "443", "[fd00::1]:443", true],
  ] as const)("NO_PROXY: %s:%s against %j → %s", (host, port, noProxy, expected) => {
    expect(bypassed(host, port, noProxy)).toBe(expected);
  });
});

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = { clientId: "5b1c8f07-5c43-4a5e-b0b4-8c8a6a0d6e21", secret: "proxy-Secret.value" };
const ENTRA_NAME = "entra.kubelogin.test";

describe("get-token through a CONNECT proxy", () => {
  let entra: FakeEntra;
  let imds: FakeImds;
  let proxy: FakeProxy;
  let refusing: RefusingPort;
  let dir: string;
  beforeAll(async () => {
    entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [APP], hostname: ENTRA_NAME });
    imds = await startFakeImds({ systemAssigned: { clientId: APP.clientId }, issue: (id, resource) => entra.issueManagedIdentityToken(id, resource) });
    proxy = await startFakeProxy({ hosts: { [ENTRA_NAME]: "127.0.0.1" } });
    refusing = await refusingPort();
    dir = await mkdtemp(join(tmpdir(), "kubelogin-proxy-"));
  });
  afterAll(async () => {
    await Promise.all([entra.close(), imds.close(), proxy.close(), refusing.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const spn = async (...extra: string[]): Promise<string[]> => [
    "get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", APP.clientId, "--tenant-id", TENANT,
    "--authority-host", entra.url, "--cache-dir", await mkdtemp(join(dir, "cache-")), ...extra,
  ];
  /** A runtime whose fetch is nodeRuntime's: proxies from this env, not process.env. */
  const proxied = (variables: Record<string, string>): ReturnType<typeof testRuntime> => {
    // As in nodeRuntime, the env holds the NODE_EXTRA_CA_CERTS this process started with.
    const env = { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS!, ...variables };
    return testRuntime({ env, fetch: proxyAwareFetch(env, process.platform) });
  };

  test("spn: every Entra request goes through HTTPS_PROXY, and the token comes back", async () => {
    const before = proxy.count(ENTRA_NAME);
    const rt = proxied({ AZURE_CLIENT_SECRET: APP.secret, HTTPS_PROXY: proxy.url });
    expect(await run(await spn(), rt)).toBe(0);
    expect(rt.stderr.text()).toBe("");
    expect(proxy.count(ENTRA_NAME) - before).toBeGreaterThanOrEqual(1);
    expect(entra.tokenRequests().length).toBeGreaterThanOrEqual(1);
  });

  test("lower-case https_proxy is honoured as well", async () => {
    const before = proxy.count(ENTRA_NAME);
    expect(await run(await spn(), proxied({ AZURE_CLIENT_SECRET: APP.secret, https_proxy: proxy.url }))).toBe(0);
    expect(proxy.count(ENTRA_NAME) - before).toBeGreaterThanOrEqual(1);
  });

  test("NO_PROXY sends it direct, where the name does not resolve: the error names the host and the way out", async () => {
    const before = proxy.seen.length;
    const rt = proxied({ AZURE_CLIENT_SECRET: APP.secret, HTTPS_PROXY: proxy.url, NO_PROXY: ".kubelogin.test" });
    expect(await run(await spn(), rt)).toBe(1);
    const [error, hint] = rt.stderr.text().split("\n");
    expect(error).toMatch(/^Error: failed to get token: could not reach the identity provider at https:\/\/entra\.kubelogin\.test:\d+: (ENOTFOUND|EAI_AGAIN)$/);
    expect(hint).toMatch(/^hint: entra\.kubelogin\.test does not resolve; .*HTTPS_PROXY.*NO_PROXY/);
    expect(proxy.seen.length).toBe(before);
  });

  test("a proxy that refuses connections is named in the error", async () => {
    const rt = proxied({ AZURE_CLIENT_SECRET: APP.secret, HTTPS_PROXY: `http://127.0.0.1:${refusing.port}` });
    expect(await run(await spn(), rt)).toBe(1);
    const [error, hint] = rt.stderr.text().split("\n");
    expect(error).toBe(`Error: failed to get token: could not reach the identity provider at ${entra.url.slice(0, -1)} through the proxy http://127.0.0.1:${refusing.port}: ECONNREFUSED`);
    expect(hint).toBe("hint: check the proxy in HTTPS_PROXY / HTTP_PROXY (address, credentials), or list entra.kubelogin.test in NO_PROXY to connect directly");
  });

  test("msi: IMDS is reached directly even with both proxy variables set", async () => {
    const before = proxy.seen.length;
    const env = { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost };
    const rt = proxied(env);
    expect(await run(["get-token", "-l", "msi", "--server-id", SERVER_ID, "--cache-dir", await mkdtemp(join(dir, "cache-"))], rt)).toBe(0);
    expect(imds.imdsRequests().length).toBeGreaterThanOrEqual(1);
    expect(proxy.seen.length).toBe(before);
  });
});
