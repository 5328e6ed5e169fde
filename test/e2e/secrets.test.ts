// Secrets never leak (issue 12, item 5): every login mode runs at -v 10 against the fakes, on a
// fetch that harvests every secret that crosses the wire (what kubelogin sends: client secrets,
// passwords, assertions, refresh tokens, Authorization headers; what the fakes answer: access,
// refresh and id tokens, device codes, federated tokens), plus the secrets the test itself gave.
// Then stderr must hold none of them, and the files the plugin wrote only what belongs there.
import { mkdir, mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { installFakeCli } from "../fakes/fake-cli.js";
import { mintFederatedToken } from "../fakes/federated-token.js";
import { GITHUB_ISSUER, startFakeGitHubOidc, type FakeGitHubOidc } from "../fakes/fake-github-oidc.js";
import { startFakeImds, type FakeImds } from "../fakes/fake-imds.js";
import { PIPELINES_ISSUER, startFakePipelinesOidc, type FakePipelinesOidc } from "../fakes/fake-pipelines-oidc.js";
import { visitSignInUrl } from "../support/browser.js";
import { createClientCertificate, loadTestPki, toPfx } from "../support/pki.js";
import { testRuntime, type TestRuntimeOptions } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SECRET_APP = { clientId: "11111111-0000-4000-8000-000000000001", secret: "spn-Client.Secret-0001" };
const CERT = createClientCertificate("secrets-spn");
const CERT_APP = { clientId: "11111111-0000-4000-8000-000000000002", certificatePem: CERT.certPem };
const PFX_PASSWORD = "pfx-Pass.word-0002";
const PUBLIC_CLIENT = "11111111-0000-4000-8000-000000000003";
const BROWSER_CLIENT = "11111111-0000-4000-8000-000000000004";
const V1_CLIENT = "11111111-0000-4000-8000-000000000005";
const USER = { username: "alice@contoso.example", password: "Alice-Pass.word-0003" };
const AKS_ISSUER = "https://westeurope.oic.prod-aks.azure.com/72f988bf/6a1b2c3d/";
const POD_SUBJECT = "system:serviceaccount:default:deployer";
const POD_APP = { clientId: "11111111-0000-4000-8000-000000000006", federated: [{ issuer: AKS_ISSUER, subject: POD_SUBJECT }] };
const GH_SUBJECT = "repo:contoso/aks-deploy:ref:refs/heads/main";
const GH_APP = { clientId: "11111111-0000-4000-8000-000000000007", federated: [{ issuer: GITHUB_ISSUER, subject: GH_SUBJECT }] };
const PIPELINES_CLIENT = "11111111-0000-4000-8000-000000000008";
const MSI = { clientId: "11111111-0000-4000-8000-000000000009" };
const AZ_TOKEN = "az-cli-access-token-0123456789abcdef";
const AZD_TOKEN = "azd-access-token-0123456789abcdef";
// The CLIs' tokens expire in 2031; the cache refuses expiries more than a year ahead of its clock.
const CLI_NOW = "2031-05-06T06:00:00Z";

/** Where a secret may rest on disk: nowhere, in access-token entries and MSAL blobs, or in MSAL blobs only. */
type Kind = "credential" | "accessToken" | "msalOnly";

const secrets = new Map<string, Kind>();
function remember(value: unknown, kind: Kind): void {
  if (typeof value !== "string" || value.length < 8) return;
  // A token that is both sent and received keeps the stricter rule.
  const order: Kind[] = ["accessToken", "msalOnly", "credential"];
  const before = secrets.get(value);
  if (before === undefined || order.indexOf(kind) > order.indexOf(before)) secrets.set(value, kind);
}

const REQUEST_FIELDS: Record<string, Kind> = {
  client_secret: "credential",
  client_assertion: "credential",
  password: "credential",
  code: "credential",
  code_verifier: "credential",
  device_code: "credential",
  refresh_token: "msalOnly",
};
const RESPONSE_FIELDS: Record<string, Kind> = {
  access_token: "accessToken",
  accessToken: "accessToken",
  token: "accessToken",
  refresh_token: "msalOnly",
  id_token: "msalOnly",
  client_info: "msalOnly",
  device_code: "credential",
  // Federated tokens from GitHub Actions and Azure Pipelines: client assertions.
  value: "credential",
  oidcToken: "credential",
};

function harvestJson(value: unknown): void {
  if (Array.isArray(value)) value.forEach(harvestJson);
  else if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      const kind = RESPONSE_FIELDS[key];
      if (kind) remember(inner, kind);
      else harvestJson(inner);
    }
  }
}

/** The real fetch, recording every secret kubelogin sends and every token the fakes answer with. */
const harvestingFetch: typeof fetch = async (input, init) => {
  const headers = new Headers(init?.headers);
  for (const name of ["authorization", "x-identity-header", "secret"]) {
    const value = headers.get(name);
    if (value) {
      remember(value, "credential");
      remember(value.replace(/^\S+\s+/, ""), "credential");
    }
  }
  if (typeof init?.body === "string") {
    for (const [key, value] of new URLSearchParams(init.body)) {
      const kind = REQUEST_FIELDS[key];
      if (kind) remember(value, kind);
    }
  }
  const response = await fetch(input, init);
  const text = await response.clone().text();
  try {
    harvestJson(JSON.parse(text));
  } catch {
    // Not JSON: the fakes answer every token as JSON.
  }
  return response;
};

let root: string;
let entra: FakeEntra;
let imds: FakeImds;
let github: FakeGitHubOidc;
let pipelines: FakePipelinesOidc;
const stderrs: { name: string; text: string }[] = [];
const writtenDirs = new Set<string>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "kubelogin-secrets-"));
  github = await startFakeGitHubOidc(GH_SUBJECT);
  pipelines = await startFakePipelinesOidc();
  entra = await startFakeEntra({
    pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!),
    tenants: [TENANT],
    apps: [
      { clientId: SECRET_APP.clientId, secret: SECRET_APP.secret },
      CERT_APP,
      POD_APP,
      GH_APP,
      { clientId: PIPELINES_CLIENT, federated: [{ issuer: PIPELINES_ISSUER, subject: pipelines.subject }] },
    ],
  });
  entra.users.addPublicClient(PUBLIC_CLIENT);
  entra.users.addUser(USER);
  entra.users.deviceCode = { user: USER.username, slowDownPolls: 0, pendingPolls: 1, outcome: "approve", interval: 0 };
  entra.authCode.addPublicClient(BROWSER_CLIENT);
  entra.authCode.user = USER.username;
  entra.v1.addPublicClient(V1_CLIENT);
  entra.v1.deviceCode = { user: USER.username, slowDownPolls: 0, pendingPolls: 1, interval: 0 };
  imds = await startFakeImds({ systemAssigned: MSI, userAssigned: [], issue: (id, resource) => entra.issueManagedIdentityToken(id, resource) });

  remember(SECRET_APP.secret, "credential");
  remember(PFX_PASSWORD, "credential");
  remember(USER.password, "credential");
  remember(github.requestToken, "credential");
  remember(pipelines.accessToken, "credential");
  remember(imds.identityHeader, "credential");
  remember(AZ_TOKEN, "accessToken");
  remember(AZD_TOKEN, "accessToken");
  // The private key's body, line by line: a leak of any part of it is a leak.
  for (const line of CERT.keyPkcs8Pem.split("\n").filter((l) => !l.startsWith("-----") && l.length >= 40)) remember(line, "credential");
});
afterAll(async () => {
  await Promise.all([entra?.close(), imds?.close(), github?.close(), pipelines?.close()]);
});

/** One get-token run at -v 10 in its own cache dir and home; its stderr and files join the scans. */
async function getToken(name: string, args: string[], options: TestRuntimeOptions = {}, expected = 0): Promise<string> {
  const dir = join(root, name.replace(/\W+/g, "-"));
  const cacheDir = join(dir, "cache");
  const homedir = join(dir, "home");
  await mkdir(homedir, { recursive: true });
  const rt = testRuntime({ fetch: harvestingFetch, homedir, ...options });
  const code = await run(["get-token", "--server-id", SERVER_ID, "--cache-dir", cacheDir, "-v", "10", ...args], rt);
  expect(code, `${name}: ${rt.stderr.text()}`).toBe(expected);
  if (expected === 0) remember((JSON.parse(rt.stdout.text()) as { status: { token: string } }).status.token, "accessToken");
  stderrs.push({ name, text: rt.stderr.text() });
  writtenDirs.add(dir);
  return rt.stderr.text();
}

async function writeSecretFile(name: string, content: string | Buffer): Promise<string> {
  const path = join(root, name);
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

const ENTRA = (): string[] => ["--authority-host", entra.url, "--tenant-id", TENANT];

describe("every login mode at -v 10", () => {
  test("spn with a secret, and a wrong one", async () => {
    await getToken("spn-secret", ["-l", "spn", ...ENTRA(), "--client-id", SECRET_APP.clientId], { env: { AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: SECRET_APP.secret } });
    remember("Wrong-Client.Secret-0001", "credential");
    await getToken("spn-wrong-secret", ["-l", "spn", ...ENTRA(), "--client-id", SECRET_APP.clientId, "--client-secret", "Wrong-Client.Secret-0001"], {}, 1);
  });

  test("spn with a PEM certificate, a PFX, and a PFX with the wrong password", async () => {
    const pem = await writeSecretFile("spn.pem", CERT.keyPkcs8Pem + CERT.certPem);
    const pfx = await writeSecretFile("spn.pfx", toPfx(CERT, PFX_PASSWORD));
    await getToken("spn-pem", ["-l", "spn", ...ENTRA(), "--client-id", CERT_APP.clientId, "--client-certificate", pem]);
    await getToken("spn-pfx", ["-l", "spn", ...ENTRA(), "--client-id", CERT_APP.clientId, "--client-certificate", pfx], {
      env: { AZURE_CLIENT_CERTIFICATE_PASSWORD: PFX_PASSWORD },
    });
    remember("Wrong-pfx.Pass-0002", "credential");
    await getToken("spn-pfx-wrong", ["-l", "spn", ...ENTRA(), "--client-id", CERT_APP.clientId, "--client-certificate", pfx, "--client-certificate-password", "Wrong-pfx.Pass-0002"], {}, 1);
  });

  test("spn --legacy with a secret and with a certificate", async () => {
    const pem = await writeSecretFile("legacy.pem", CERT.keyPkcs8Pem + CERT.certPem);
    await getToken("spn-legacy-secret", ["-l", "spn", "--legacy", ...ENTRA(), "--client-id", SECRET_APP.clientId], { env: { AZURE_CLIENT_SECRET: SECRET_APP.secret } });
    await getToken("spn-legacy-cert", ["-l", "spn", "--legacy", ...ENTRA(), "--client-id", CERT_APP.clientId, "--client-certificate", pem]);
  });

  test("devicecode, a silent refresh with its refresh token, a cache hit, and devicecode --legacy", async () => {
    // 301 s falls under the 5 minutes kubelogin and MSAL want left within two seconds (whole-second expiries).
    entra.users.tokenLifetimeSeconds = 301;
    await getToken("devicecode", ["-l", "devicecode", ...ENTRA(), "--client-id", PUBLIC_CLIENT]);
    entra.users.tokenLifetimeSeconds = 3600;
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const refreshes = entra.grantCount("refresh_token");
    await getToken("devicecode", ["-l", "devicecode", ...ENTRA(), "--client-id", PUBLIC_CLIENT]);
    expect(entra.grantCount("refresh_token")).toBe(refreshes + 1);
    await getToken("devicecode", ["-l", "devicecode", ...ENTRA(), "--client-id", PUBLIC_CLIENT]);
    await getToken("devicecode-legacy", ["-l", "devicecode", "--legacy", ...ENTRA(), "--client-id", V1_CLIENT], { now: Date.now() });
  });

  test("ropc, and a wrong password", async () => {
    await getToken("ropc", ["-l", "ropc", ...ENTRA(), "--client-id", PUBLIC_CLIENT, "--username", USER.username], { env: { AZURE_PASSWORD: USER.password } });
    remember("Wrong-Alice.Pass-0003", "credential");
    await getToken("ropc-wrong", ["-l", "ropc", ...ENTRA(), "--client-id", PUBLIC_CLIENT, "--username", USER.username, "--password", "Wrong-Alice.Pass-0003"], {}, 1);
  });

  test("interactive, signed in by a test browser that visits the URL", async () => {
    await getToken("interactive", ["-l", "interactive", ...ENTRA(), "--client-id", BROWSER_CLIENT], {
      openBrowser: async (url) => void visitSignInUrl(url),
    });
  });

  test("msi from IMDS and from App Service", async () => {
    await getToken("msi-imds", ["-l", "msi"], { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost } });
    await getToken("msi-appservice", ["-l", "msi"], {
      env: { IDENTITY_ENDPOINT: imds.appServiceEndpoint, IDENTITY_HEADER: imds.identityHeader, AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://127.0.0.1:9" },
    });
  });

  test("azurecli and azd", async () => {
    const cliRoot = join(root, "clis");
    const azConfig = join(cliRoot, "az-config");
    const azdConfig = join(cliRoot, "azd-config");
    await mkdir(azConfig, { recursive: true });
    await mkdir(azdConfig, { recursive: true });
    await writeFile(
      join(azConfig, "azureProfile.json"),
      JSON.stringify({ subscriptions: [{ id: "sub-a", name: "a", state: "Enabled", user: { name: "alice@contoso.com", type: "user" }, isDefault: true, tenantId: TENANT, environmentName: "AzureCloud" }] }),
    );
    await writeFile(join(azdConfig, "auth.json"), JSON.stringify({ auth: { account: { currentUser: { clientId: "app-1", tenantId: TENANT } } } }));
    const az = await installFakeCli("az", cliRoot, {
      kind: "print",
      stdout: JSON.stringify({ accessToken: AZ_TOKEN, expiresOn: "2031-05-06 07:08:09.000000", expires_on: Date.parse("2031-05-06T07:08:09Z") / 1000, subscription: "sub-a", tenant: TENANT, tokenType: "Bearer" }),
    });
    const azd = await installFakeCli("azd", cliRoot, { kind: "print", stdout: JSON.stringify({ token: AZD_TOKEN, expiresOn: "2031-05-06T07:08:09Z" }) });
    const env = { PATH: `${az.binDir}:${azd.binDir}:/usr/bin:/bin`, AZURE_CONFIG_DIR: azConfig, AZD_CONFIG_DIR: azdConfig };
    await getToken("azurecli", ["-l", "azurecli"], { now: CLI_NOW, env });
    await getToken("azd", ["-l", "azd"], { now: CLI_NOW, env });
  });

  test("workloadidentity from a token file and from GitHub Actions, and a token file Entra refuses", async () => {
    const assertion = mintFederatedToken({ issuer: AKS_ISSUER, subject: POD_SUBJECT });
    remember(assertion, "credential");
    const tokenFile = await writeSecretFile("azure-identity-token", assertion);
    const pod = { AZURE_CLIENT_ID: POD_APP.clientId, AZURE_TENANT_ID: TENANT, AZURE_FEDERATED_TOKEN_FILE: tokenFile, AZURE_AUTHORITY_HOST: entra.url };
    await getToken("workloadidentity-file", ["-l", "workloadidentity"], { env: pod });
    await getToken("workloadidentity-github", ["-l", "workloadidentity"], {
      env: { AZURE_CLIENT_ID: GH_APP.clientId, AZURE_TENANT_ID: TENANT, AZURE_AUTHORITY_HOST: entra.url, ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken },
    });
    const stranger = mintFederatedToken({ issuer: AKS_ISSUER, subject: "system:serviceaccount:default:stranger" });
    remember(stranger, "credential");
    await getToken("workloadidentity-refused", ["-l", "workloadidentity"], { env: { ...pod, AZURE_FEDERATED_TOKEN_FILE: await writeSecretFile("stranger-token", stranger) } }, 1);
  });

  test("azurepipelines", async () => {
    await getToken("azurepipelines", ["-l", "azurepipelines", "--authority-host", entra.url], {
      env: {
        SYSTEM_ACCESSTOKEN: pipelines.accessToken,
        SYSTEM_OIDCREQUESTURI: pipelines.requestUri,
        AZURESUBSCRIPTION_CLIENT_ID: PIPELINES_CLIENT,
        AZURESUBSCRIPTION_TENANT_ID: TENANT,
        AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: pipelines.serviceConnectionId,
      },
    });
  });
});

/** Each secret, and for a JWT its signature too: a log line that kept only part of a token still leaks it. */
function needles(): { needle: string; kind: Kind; of: string }[] {
  return [...secrets].flatMap(([value, kind]) => {
    const parts = value.split(".");
    const signature = parts.length === 3 && parts[2]!.length >= 16 ? [{ needle: parts[2]!, kind, of: value }] : [];
    return [{ needle: value, kind, of: value }, ...signature];
  });
}

const describeSecret = (value: string): string => `${value.slice(0, 6)}… (${secrets.get(value)}, ${value.length} chars)`;

describe("the scans", () => {
  test("the runs harvested the secrets they should have", () => {
    const kinds = [...secrets.values()];
    expect(stderrs.length).toBeGreaterThanOrEqual(18);
    expect(kinds.filter((k) => k === "accessToken").length).toBeGreaterThanOrEqual(14);
    expect(kinds.filter((k) => k === "msalOnly").length).toBeGreaterThanOrEqual(3);
    expect(kinds.filter((k) => k === "credential").length).toBeGreaterThanOrEqual(15);
    // -v 10 really logged: MSAL's own lines and the options line.
    expect(stderrs.find((s) => s.name === "devicecode")!.text).toContain("msal: ");
  });

  test("the scan finds a planted leak, even half a token", () => {
    const [jwt] = [...secrets].find(([value, kind]) => kind === "accessToken" && value.split(".").length === 3)!;
    const found = (text: string) => needles().filter(({ needle }) => text.includes(needle)).map(({ of }) => of);
    expect(found(`oops ${jwt.slice(jwt.indexOf(".") + 1)}`)).toContain(jwt);
    expect(found(`oops ${SECRET_APP.secret}`)).toEqual([SECRET_APP.secret]);
  });

  test("stderr holds none of them", () => {
    const leaks = stderrs.flatMap(({ name, text }) => needles().filter(({ needle }) => text.includes(needle)).map(({ of }) => `${name}: ${describeSecret(of)}`));
    expect(leaks).toEqual([]);
  });

  test("the files written hold only access tokens in token-*.json and MSAL blobs, refresh and id tokens only in MSAL blobs, and no credential at all", async () => {
    const files = (await Promise.all([...writtenDirs].map(listFiles))).flat();
    expect(files.some((f) => /\/token-[^/]+\.json$/.test(f))).toBe(true);
    expect(files.some((f) => /\/msal-[^/]+\.json$/.test(f))).toBe(true);
    const leaks: string[] = [];
    for (const file of files) {
      const text = await readFile(file, "latin1");
      const name = file.slice(file.lastIndexOf("/") + 1);
      const allowed = (kind: Kind): boolean =>
        (kind === "accessToken" && (/^token-.+\.json$/.test(name) || /^msal-.+\.json$/.test(name))) || (kind === "msalOnly" && /^msal-.+\.json$/.test(name));
      for (const { needle, kind, of } of needles()) {
        if (!allowed(kind) && text.includes(needle)) leaks.push(`${relative(root, file)}: ${describeSecret(of)}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return listFiles(path);
      return (await stat(path)).isFile() ? [path] : [];
    }),
  );
  return nested.flat();
}
