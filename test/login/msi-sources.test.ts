// get-token -l msi against the managed identity sources other than IMDS and App Service, each a
// real peer over loopback: Azure Arc's challenge-file flow, Service Fabric over HTTPS with its
// pinned self-signed certificate (retried and proxied like every other request), Cloud Shell and
// Azure ML (compat spec §3.8; issue 12 items 1 and 3).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { getToken } from "../../src/exec/get-token.js";
import { managedIdentity } from "../../src/login/msi.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { SERVICE_FABRIC_401_SECRET_HEADER_NOT_FOUND } from "../fixtures/recorded-responses.js";
import { startFakeImds, type FakeImds } from "../fakes/fake-imds.js";
import { startFakeProxy, type FakeProxy } from "../fakes/fake-proxy.js";
import { startFakeServiceFabric, type FakeServiceFabric } from "../fakes/fake-service-fabric.js";
import { loadTestPki } from "../support/pki.js";
import { refusingPort } from "../support/refusing-port.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SYSTEM = { clientId: "5a5a5a5a-0000-4000-8000-000000000011" };
const USER = { clientId: "5a5a5a5a-0000-4000-8000-000000000012" };
const SF_NAME = "sf-node.kubelogin.test";

let entra: FakeEntra;
let imds: FakeImds;
let fabric: FakeServiceFabric;
let proxy: FakeProxy;
let dir: string;
let arcKeyDir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-msi-sources-"));
  arcKeyDir = join(dir, "azcmagent", "tokens");
  await mkdir(arcKeyDir, { recursive: true });
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [] });
  imds = await startFakeImds({ systemAssigned: SYSTEM, userAssigned: [USER], arcKeyDir, issue: (id, resource) => entra.issueManagedIdentityToken(id, resource) });
  fabric = await startFakeServiceFabric({ issue: (resource) => entra.issueManagedIdentityToken(SYSTEM.clientId, resource) });
  proxy = await startFakeProxy({ hosts: { [SF_NAME]: "127.0.0.1" } });
});
afterAll(async () => {
  await Promise.all([entra.close(), imds.close(), fabric.close(), proxy.close()]);
  await rm(dir, { recursive: true, force: true });
});

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(dir, "cache-"));
  fabric.clearFaults();
});

const argv = (...extra: string[]): string[] => ["get-token", "-l", "msi", "--server-id", SERVER_ID, "--cache-dir", cacheDir, ...extra];
const tokenOf = (out: string): string => (JSON.parse(out) as { status: { token: string } }).status.token;
const retryLines = (stderr: string): string[] => stderr.split("\n").filter((line) => line.includes("; retrying in "));

describe("Azure Arc (IDENTITY_ENDPOINT + IMDS_ENDPOINT)", () => {
  /** The use case with the strategy pointed at this test's key directory (the agent's is /var/opt/azcmagent/tokens). */
  function arcGetToken(level = 0) {
    const rt = testRuntime({ env: { IDENTITY_ENDPOINT: imds.arcEndpoint, IMDS_ENDPOINT: "http://127.0.0.1:9" } });
    const { options, provenance } = resolveOptions(parseFlags(["--login", "msi", "--server-id", SERVER_ID, "--cache-dir", cacheDir], GET_TOKEN_OPTIONS), rt.env, rt.homedir);
    const resolved = { options: validateOptions(options, provenance), provenance };
    const done = getToken(resolved, { rt, log: rt.logger(level), strategyFor: async () => managedIdentity({ arcKeyDir }) });
    return { rt, done };
  }

  test("the 401 challenge names a key file in the agent's directory; the request again with Basic <key> gets the token", async () => {
    const before = imds.arcRequests().length;
    const { rt, done } = arcGetToken(10);
    await done;
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    const [challenge, answer] = imds.arcRequests().slice(before);
    expect(imds.arcRequests().length - before).toBe(2);
    expect(challenge!.headers.authorization).toBeUndefined();
    expect(challenge!.headers.metadata).toBe("true");
    expect(challenge!.query).toEqual({ "api-version": "2019-11-01", resource: SERVER_ID });
    const key = /^Basic (.+)$/.exec(String(answer!.headers.authorization))![1]!;
    expect(key.length).toBeGreaterThan(20);
    expect(rt.stderr.text()).not.toContain(key);
  });

  test.each([
    ["outside the directory", () => join(dir, "elsewhere.key")],
    ["in a subdirectory of it", () => join(arcKeyDir, "sub", "nested.key")],
    ["without the .key suffix", () => join(arcKeyDir, "secret.txt")],
    ["through .. out of it", () => join(arcKeyDir, "..", "escaped.key")],
  ])("a challenge naming a file %s is refused, and the file is never read nor sent", async (_name, pathOf) => {
    const path = pathOf();
    await mkdir(join(arcKeyDir, "sub"), { recursive: true });
    // The file exists and is readable: only the directory rule can stop it.
    await writeFile(path, "not-for-the-endpoint");
    imds.nextArcRealm(path);
    const before = imds.arcRequests().length;
    const { rt, done } = arcGetToken();
    await expect(done).rejects.toThrow(`ManagedIdentityCredential: invalid Azure Arc key file: ${path} is not a .key file in ${arcKeyDir}`);
    expect(imds.arcRequests().length - before).toBe(1);
    expect(JSON.stringify(imds.arcRequests())).not.toContain("not-for-the-endpoint");
    expect(rt.stdout.text()).toBe("");
  });

  test("a key file over 4096 bytes is refused before it is read", async () => {
    const path = join(arcKeyDir, "large.key");
    await writeFile(path, "k".repeat(4097));
    imds.nextArcRealm(path);
    const { done } = arcGetToken();
    await expect(done).rejects.toThrow(`ManagedIdentityCredential: invalid Azure Arc key file: ${path} is larger than 4096 bytes`);
  });

  test("the key sent is the content of the file the challenge named", async () => {
    const before = imds.arcRequests().length;
    const { done } = arcGetToken();
    await done;
    const answer = imds.arcRequests().slice(before)[1]!;
    // The fake names each challenge's file with 16 hex digits and writes a fresh key into it.
    const written = (await readdir(arcKeyDir)).filter((name) => /^[0-9a-f]{16}\.key$/.test(name));
    const keys = await Promise.all(written.map((name) => readFile(join(arcKeyDir, name), "utf8")));
    expect(keys.map((key) => `Basic ${key}`)).toContain(answer.headers.authorization);
  });
});

describe("Cloud Shell (MSI_ENDPOINT)", () => {
  test("a form POST of the resource with Metadata: true; the token comes back", async () => {
    const before = imds.cloudShellRequests().length;
    const rt = testRuntime({ env: { MSI_ENDPOINT: imds.cloudShellEndpoint } });
    expect(await run(argv(), rt)).toBe(0);
    expect(rt.stderr.text()).toBe("");
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    const request = imds.cloudShellRequests().at(-1)!;
    expect(imds.cloudShellRequests().length - before).toBe(1);
    expect(request.method).toBe("POST");
    expect(request.headers.metadata).toBe("true");
    expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request.body).toBe(`resource=${SERVER_ID}`);
  });
});

describe("Azure ML (MSI_ENDPOINT + MSI_SECRET)", () => {
  test("system-assigned is DEFAULT_IDENTITY_CLIENT_ID; the secret header is sent and never logged", async () => {
    const env = { MSI_ENDPOINT: imds.azureMlEndpoint, MSI_SECRET: imds.msiSecret, DEFAULT_IDENTITY_CLIENT_ID: SYSTEM.clientId };
    const rt = testRuntime({ env });
    expect(await run(argv("-v", "10"), rt)).toBe(0);
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    const request = imds.azureMlRequests().at(-1)!;
    expect(request.headers.secret).toBe(imds.msiSecret);
    expect(request.query).toEqual({ "api-version": "2017-09-01", resource: SERVER_ID, clientid: SYSTEM.clientId });
    expect(rt.stderr.text()).not.toContain(imds.msiSecret);
  });

  test("--client-id picks a user-assigned identity", async () => {
    const env = { MSI_ENDPOINT: imds.azureMlEndpoint, MSI_SECRET: imds.msiSecret, DEFAULT_IDENTITY_CLIENT_ID: SYSTEM.clientId };
    expect(await run(argv("--client-id", USER.clientId), testRuntime({ env }))).toBe(0);
    expect(imds.azureMlRequests().at(-1)!.query.clientid).toBe(USER.clientId);
  });
});

describe("Service Fabric (IDENTITY_ENDPOINT + IDENTITY_HEADER + IDENTITY_SERVER_THUMBPRINT)", () => {
  const sfEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    IDENTITY_ENDPOINT: fabric.endpoint,
    IDENTITY_HEADER: fabric.identityHeader,
    IDENTITY_SERVER_THUMBPRINT: fabric.thumbprint,
    ...extra,
  });

  test("the pinned certificate: GET with the Secret header over HTTPS, and the token comes back", async () => {
    const before = fabric.requests.length;
    const rt = testRuntime({ env: sfEnv() });
    expect(await run(argv("-v", "10"), rt)).toBe(0);
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    expect(fabric.requests.length - before).toBe(1);
    const request = fabric.requests.at(-1)!;
    expect(request.headers.secret).toBe(fabric.identityHeader);
    expect(request.query).toEqual({ "api-version": "2019-07-01-preview", resource: SERVER_ID });
    expect(rt.stderr.text()).not.toContain(fabric.identityHeader);
  });

  test("the thumbprint may come in lower case with colons, as some tools print it", async () => {
    const colons = fabric.thumbprint.toLowerCase().replace(/(..)(?!$)/g, "$1:");
    expect(await run(argv(), testRuntime({ env: sfEnv({ IDENTITY_SERVER_THUMBPRINT: colons }) }))).toBe(0);
  });

  test("another certificate is refused with a clear error, before the request (and its Secret) is sent", async () => {
    const before = fabric.requests.length;
    const wrong = "0123456789ABCDEF0123456789ABCDEF01234567";
    const rt = testRuntime({ env: sfEnv({ IDENTITY_SERVER_THUMBPRINT: wrong }) });
    expect(await run(argv(), rt)).toBe(1);
    const [error, hint, ...rest] = rt.stderr.text().split("\n");
    expect(error).toBe(
      `Error: failed to get token: the Service Fabric token service at https://127.0.0.1:${fabric.port} presented certificate ${fabric.thumbprint}, not IDENTITY_SERVER_THUMBPRINT ${wrong}`,
    );
    expect(hint).toMatch(/^hint: nothing was sent to it; check IDENTITY_SERVER_THUMBPRINT/);
    expect(rest.join("")).toBe("");
    expect(rt.stdout.text()).toBe("");
    expect(fabric.requests.length).toBe(before);
  });

  test("a refusal (the documented sample error) shows its code and message, and its correlationId on the ids line", async () => {
    const rt = testRuntime({ env: sfEnv({ IDENTITY_HEADER: "not-the-cluster-secret" }) });
    expect(await run(argv(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")).toEqual([
      "Error: failed to get token: ManagedIdentityCredential authentication failed. The serviceFabric endpoint answered 401: SecretHeaderNotFound: Secret is not found in the request headers.",
      `trace id: none, correlation id: ${SERVICE_FABRIC_401_SECRET_HEADER_NOT_FOUND.correlationId}`,
      "",
    ]);
  });

  test("503, 503, then 200 ends in a token after two retries, each one -v 1 line", async () => {
    fabric.injectFaults([{ status: 503 }, { status: 503 }]);
    const before = fabric.requests.length;
    const start = Date.now();
    const rt = testRuntime({ env: sfEnv(), now: start });
    expect(await run(argv("-v", "1"), rt)).toBe(0);
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    expect(fabric.requests.length - before).toBe(3);
    const lines = retryLines(rt.stderr.text());
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/GET https:\/\/127\.0\.0\.1:\d+\/metadata\/identity\/oauth2\/token: answered 503; retrying in \d\.\ds \(attempt 2 of 4\)$/);
    expect(lines[1]).toMatch(/answered 503; retrying in \d\.\ds \(attempt 3 of 4\)$/);
    // The shared policy's backoff with jitter: 0.5-1 s, then 1-2 s, on the run's clock.
    expect(rt.clock.now() - start).toBeGreaterThanOrEqual(1500);
    expect(rt.clock.now() - start).toBeLessThanOrEqual(3000);
  });

  test("429 with Retry-After: 1, then 200: waits exactly the second it was asked to", async () => {
    fabric.injectFaults([{ status: 429, headers: { "Retry-After": "1" }, body: { error: { code: "TooManyRequests", message: "throttled" } } }]);
    const start = Date.now();
    const rt = testRuntime({ env: sfEnv(), now: start });
    expect(await run(argv("-v", "1"), rt)).toBe(0);
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    expect(rt.clock.now() - start).toBe(1000);
    const lines = retryLines(rt.stderr.text());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/answered 429; retrying in 1\.0s \(attempt 2 of 4\)$/);
  });

  test("a dropped connection is retried", async () => {
    fabric.injectFaults(["reset"]);
    const before = fabric.requests.length;
    const rt = testRuntime({ env: sfEnv(), now: Date.now() });
    expect(await run(argv("-v", "1"), rt)).toBe(0);
    expect(fabric.requests.length - before).toBe(2);
    expect(retryLines(rt.stderr.text())).toEqual([expect.stringMatching(/: connection reset \(ECONNRESET\); retrying in \d\.\ds \(attempt 2 of 4\)$/)]);
  });

  test("--timeout bounds the retries: a wait that would pass it is not started, and the service's answer is the error", async () => {
    fabric.injectFaults(Array.from({ length: 10 }, () => ({ status: 503 })));
    const before = fabric.requests.length;
    const start = Date.now();
    const rt = testRuntime({ env: sfEnv(), now: start });
    expect(await run(argv("--timeout", "3s", "-v", "1"), rt)).toBe(1);
    expect(rt.stderr.text()).toContain("not retrying, --timeout would pass first");
    expect(rt.stderr.text().split("\n").find((l) => l.startsWith("Error:"))).toBe(
      "Error: failed to get token: ManagedIdentityCredential authentication failed. The serviceFabric endpoint answered 503: ServiceUnavailable: The token service is busy",
    );
    expect(fabric.requests.length - before).toBeLessThanOrEqual(3);
    expect(rt.clock.now() - start).toBeLessThan(3000);
  });

  test("a service that never answers does not outlive --timeout (the abort signal reaches the request)", async () => {
    fabric.injectFaults(["hang"]);
    const rt = testRuntime({ env: sfEnv() });
    expect(await run(argv("--timeout", "1s"), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to get token: context deadline exceeded");
  });

  test("HTTPS_PROXY carries it through a CONNECT tunnel, and the pin holds end to end inside it", async () => {
    const before = proxy.count(SF_NAME);
    const rt = testRuntime({ env: sfEnv({ IDENTITY_ENDPOINT: fabric.endpointAt(SF_NAME), HTTPS_PROXY: proxy.url }) });
    expect(await run(argv(), rt)).toBe(0);
    expect(rt.stderr.text()).toBe("");
    expect(tokenOf(rt.stdout.text())).toBe(entra.issuedTokens.at(-1));
    expect(proxy.count(SF_NAME) - before).toBe(1);

    // A fresh cache, or the token above would be served without a request.
    cacheDir = await mkdtemp(join(dir, "cache-"));
    const wrong = testRuntime({ env: sfEnv({ IDENTITY_ENDPOINT: fabric.endpointAt(SF_NAME), HTTPS_PROXY: proxy.url, IDENTITY_SERVER_THUMBPRINT: "AB".repeat(20) }) });
    expect(await run(argv(), wrong)).toBe(1);
    expect(wrong.stderr.text()).toMatch(/^Error: failed to get token: the Service Fabric token service at https:\/\/sf-node\.kubelogin\.test:\d+ presented certificate [0-9A-F]{40}, not IDENTITY_SERVER_THUMBPRINT (AB){20}\n/);
  });

  test("NO_PROXY sends it direct, where the name does not resolve: the error names the host", async () => {
    const before = proxy.seen.length;
    const rt = testRuntime({ env: sfEnv({ IDENTITY_ENDPOINT: fabric.endpointAt(SF_NAME), HTTPS_PROXY: proxy.url, NO_PROXY: ".kubelogin.test" }) });
    expect(await run(argv(), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toMatch(
      /^Error: failed to get token: could not reach the serviceFabric managed identity endpoint at https:\/\/sf-node\.kubelogin\.test:\d+: (ENOTFOUND|EAI_AGAIN)$/,
    );
    expect(proxy.seen.length).toBe(before);
  });

  test("a proxy that refuses connections is named in the error, with the way out", async () => {
    const refusing = await refusingPort();
    try {
      const rt = testRuntime({ env: sfEnv({ IDENTITY_ENDPOINT: fabric.endpointAt(SF_NAME), HTTPS_PROXY: `http://127.0.0.1:${refusing.port}` }) });
      expect(await run(argv(), rt)).toBe(1);
      const [error, hint] = rt.stderr.text().split("\n");
      expect(error).toBe(
        `Error: failed to get token: could not reach the serviceFabric managed identity endpoint at https://${SF_NAME}:${fabric.port} through the proxy http://127.0.0.1:${refusing.port}: ECONNREFUSED`,
      );
      expect(hint).toBe(`hint: check the proxy in HTTPS_PROXY / HTTP_PROXY (address, credentials), or list ${SF_NAME} in NO_PROXY to connect directly`);
    } finally {
      await refusing.close();
    }
  });
});
