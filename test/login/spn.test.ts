// spn on the new seams: the plan's cache key separates every variant and every credential, a
// changed credential misses the cache, and the checks upstream's credential constructor makes.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { entraTarget } from "../../src/login/authority.js";
import { spnCacheKey } from "../../src/login/spn.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { createClientCertificate, loadTestPki, toPfx } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const target = entraTarget({ authorityHost: "", environment: "AzurePublicCloud", tenantId: TENANT, serverId: SERVER_ID });

describe("spnCacheKey", () => {
  test("bearer, legacy and PoP variants, and PoP tokens for two clusters, never share an entry", () => {
    const credential = ["secret", "hash"];
    const keys = [
      spnCacheKey(target, "app", "bearer", credential),
      spnCacheKey(target, "app", "legacy", credential),
      // Every AKS cluster has the same server id: only the u claim tells cluster A from B.
      spnCacheKey(target, "app", { popClaimU: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/a" }, credential),
      spnCacheKey(target, "app", { popClaimU: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/b" }, credential),
      spnCacheKey(target, "app", "bearer", ["certificate", "/x.pem"]),
    ].map((key) => JSON.stringify(key));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("spn against the fake Entra ID", () => {
  const certApp = createClientCertificate("kubelogin-spn-test");
  const APP = { clientId: "5b1c8f07-5c43-4a5e-b0b4-8c8a6a0d6e21", secret: "first-Secret.value", certificatePem: certApp.certPem };
  let entra: FakeEntra;
  let dir: string;
  beforeAll(async () => {
    const pki = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
    entra = await startFakeEntra({ pki, tenants: [TENANT], apps: [APP] });
    dir = await mkdtemp(join(tmpdir(), "kubelogin-spn-"));
  });
  afterAll(async () => {
    await entra.close();
    await rm(dir, { recursive: true, force: true });
  });

  const args = (cacheDir: string, extra: string[]): string[] => [
    "get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", APP.clientId, "--tenant-id", TENANT,
    "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra,
  ];
  const tokenRequests = (): number => entra.tokenRequests().length;

  test("a PFX password that changes misses the cache and is checked again, without a request", async () => {
    const cacheDir = await mkdtemp(join(dir, "cache-"));
    const pfx = join(dir, "sp.pfx");
    await writeFile(pfx, toPfx(certApp, "right-password", { legacy: true }));
    const before = tokenRequests();
    expect(await run(args(cacheDir, ["--client-certificate", pfx, "--client-certificate-password", "right-password"]), testRuntime())).toBe(0);
    expect(tokenRequests()).toBe(before + 1);
    const rt = testRuntime();
    expect(await run(args(cacheDir, ["--client-certificate", pfx, "--client-certificate-password", "wrong-password"]), rt)).toBe(1);
    expect(rt.stderr.text()).toMatch(/^Error: failed to create azidentity credential: .*(password|pkcs12)/i);
    expect(rt.stdout.text()).toBe("");
    expect(tokenRequests()).toBe(before + 1);
    // The right password again is a cache hit.
    expect(await run(args(cacheDir, ["--client-certificate", pfx, "--client-certificate-password", "right-password"]), testRuntime())).toBe(0);
    expect(tokenRequests()).toBe(before + 1);
  });

  test("a certificate file replaced at the same path misses the cache", async () => {
    const cacheDir = await mkdtemp(join(dir, "cache-"));
    const pem = join(dir, "sp.pem");
    await writeFile(pem, `${certApp.keyPkcs8Pem}${certApp.certPem}`);
    const before = tokenRequests();
    expect(await run(args(cacheDir, ["--client-certificate", pem]), testRuntime())).toBe(0);
    expect(await run(args(cacheDir, ["--client-certificate", pem]), testRuntime())).toBe(0);
    expect(tokenRequests()).toBe(before + 1);
    const other = createClientCertificate("another-certificate");
    await writeFile(pem, `${other.keyPkcs8Pem}${other.certPem}`);
    const rt = testRuntime();
    // The new certificate is not registered for the app: Entra must see it (and refuse it).
    expect(await run(args(cacheDir, ["--client-certificate", pem]), rt)).toBe(1);
    expect(tokenRequests()).toBe(before + 2);
    expect(rt.stderr.text()).toContain("AADSTS700027");
  });

  test("a certificate path that is a FIFO is refused before it is opened", async () => {
    const fifo = join(dir, "cert.fifo");
    execFileSync("mkfifo", [fifo]);
    const rt = testRuntime();
    expect(await run(args(await mkdtemp(join(dir, "cache-")), ["--client-certificate", fifo]), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(
      `Error: failed to create azidentity credential: failed to read certificate: failed to read the certificate file (${fifo}): open ${fifo}: not a regular file`,
    );
  });

  test.each([
    ["a path", "a/b?c"],
    ["a trailing newline", `${TENANT}\n`],
    ["a space", "contoso onmicrosoft.com"],
  ])("a tenant with %s is refused with azidentity's text, before any request", async (_, tenant) => {
    const before = entra.requests.length;
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret } });
    const argv = args(await mkdtemp(join(dir, "cache-")), []).map((a) => (a === TENANT ? tenant : a));
    expect(await run(argv, rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe(
      "Error: failed to create azidentity credential: failed to create client secret credential: invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names",
    );
    expect(entra.requests.length).toBe(before);
  });

  test("an http:// authority is one sentence with a hint, not MSAL's code and docs link", async () => {
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret } });
    const argv = args(await mkdtemp(join(dir, "cache-")), []).map((a) => (a === entra.url ? entra.url.replace("https:", "http:") : a));
    expect(await run(argv, rt)).toBe(1);
    const [first, hint] = rt.stderr.text().split("\n");
    expect(first).toBe(`Error: failed to get token: authority host "${entra.url.replace("https:", "http:")}" must use https`);
    expect(hint).toBe("hint: use an https:// URL in --authority-host");
  });

  test("client credentials for the common tenant say a tenant is needed", async () => {
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret } });
    const argv = args(await mkdtemp(join(dir, "cache-")), []).map((a) => (a === TENANT ? "common" : a));
    expect(await run(argv, rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe('Error: failed to get token: a service principal needs its own tenant, not "common"');
    expect(rt.stderr.text()).toContain("hint: pass the directory (tenant) ID with --tenant-id");
  });

  test("Entra's trace and correlation ids are shown on a line of their own", async () => {
    const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: "wrong-secret" } });
    expect(await run(args(await mkdtemp(join(dir, "cache-")), []), rt)).toBe(1);
    const lines = rt.stderr.text().split("\n");
    expect(lines[0]).toMatch(/^Error: failed to get token: invalid_client: AADSTS7000215: /);
    expect(lines[1]).toMatch(/^hint: the client secret was rejected; check --client-secret \(set by AZURE_CLIENT_SECRET\)/);
    expect(lines[2]).toMatch(/^trace id: [0-9a-f-]{36}, correlation id: [0-9a-f-]{36}$/);
  });
});

describe("the cloud's documented login host, never an alias", () => {
  test.each([
    ["AzureChinaCloud", "https://login.chinacloudapi.cn"],
    ["AzureUSGovernmentCloud", "https://login.microsoftonline.us"],
  ])("-e %s sends every request to %s and names it", async (environment, origin) => {
    const seen: string[] = [];
    const rt = testRuntime({
      env: { AZURE_CLIENT_SECRET: "s3cret-value" },
      fetch: async (input) => {
        seen.push(String(input));
        throw new TypeError("fetch failed", { cause: { code: "ENOTFOUND" } });
      },
    });
    const argv = ["get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", "app", "--tenant-id", TENANT, "-e", environment,
      "--cache-dir", await mkdtemp(join(tmpdir(), "kubelogin-cloud-"))];
    expect(await run(argv, rt)).toBe(1);
    expect(seen.length).toBeGreaterThan(0);
    for (const url of seen) expect(new URL(url).origin).toBe(origin);
    expect(rt.stderr.text().split("\n")[0]).toBe(`Error: failed to get token: could not reach the identity provider at ${origin}: ENOTFOUND`);
  });
});
