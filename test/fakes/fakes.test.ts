// The fakes are only worth something if real clients accept them, so this drives them with the
// real msal-node and the real kubectl binaries rather than with hand-written requests.
import { ConfidentialClientApplication, PublicClientApplication, ServerError, type INetworkModule, type NetworkResponse } from "@azure/msal-node";
import { execFile } from "node:child_process";
import { constants as cryptoConstants, createPublicKey, verify } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectlBinary } from "../support/kubectl.js";
import { createClientCertificate, createTestPki, type ClientCertificate, type TestPki } from "../support/pki.js";
import { startFakeApiServer, type FakeApiServer } from "./fake-apiserver.js";
import { startFakeEntra, type FakeEntra } from "./fake-entra.js";

const runFile = promisify(execFile);

const TENANT = "11111111-2222-3333-4444-555555555555";
const SECRET_APP = { clientId: "aaaaaaaa-0000-0000-0000-000000000001", secret: "correct-horse-battery-staple" };
const CERTIFICATE_APP_ID = "aaaaaaaa-0000-0000-0000-000000000002";
// The well-known AKS AAD server application, which is what kubelogin asks tokens for.
const AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

let workDir: string;
let pki: TestPki;
let clientCertificate: ClientCertificate;
let entra: FakeEntra;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "kubelogin-fakes-"));
  pki = await createTestPki(join(workDir, "pki"));
  clientCertificate = createClientCertificate("kubelogin-fakes-test");
  entra = await startFakeEntra({
    pki,
    tenants: [TENANT],
    apps: [SECRET_APP, { clientId: CERTIFICATE_APP_ID, certificatePem: clientCertificate.certPem }],
  });
});

afterAll(async () => {
  await entra?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

/** msal's default client is fetch, which only trusts the system CAs; this one trusts the test CA. */
function networkClientTrusting(caCertPem: string): INetworkModule {
  const send = <T>(method: string, url: string, headers: Record<string, string>, body?: string) =>
    new Promise<NetworkResponse<T>>((resolve, reject) => {
      const outgoing = request(url, { method, headers, ca: caCertPem }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("error", reject);
        incoming.on("end", () => {
          try {
            const responseHeaders: Record<string, string> = {};
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
            }
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({ headers: responseHeaders, body: JSON.parse(text) as T, status: incoming.statusCode ?? 0 });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      });
      outgoing.on("error", reject);
      outgoing.end(body);
    });
  return {
    sendGetRequestAsync: (url, options) => send("GET", url, options?.headers ?? {}),
    sendPostRequestAsync: (url, options) => send("POST", url, options?.headers ?? {}, options?.body),
  };
}

type ClientCredential =
  | { clientSecret: string }
  | { clientCertificate: { thumbprintSha256: string; privateKey: string; x5c: string } };

function clientApp(tenant: string, credential: ClientCredential, clientId: string, authorityMetadata?: string) {
  return new ConfidentialClientApplication({
    auth: {
      clientId,
      authority: `${entra.url}${tenant}`,
      knownAuthorities: [entra.host],
      ...(authorityMetadata === undefined ? {} : { authorityMetadata }),
      ...credential,
    },
    system: { networkClient: networkClientTrusting(pki.caCertPem) },
  });
}

async function tokenWithSecret(scope: string, secret = SECRET_APP.secret, tenant = TENANT): Promise<string> {
  const result = await clientApp(tenant, { clientSecret: secret }, SECRET_APP.clientId).acquireTokenByClientCredential({
    scopes: [scope],
  });
  if (result === null) throw new Error("msal returned no token");
  return result.accessToken;
}

/** The message msal gives when the request fails, so tests can assert on the AADSTS code inside it. */
async function failureOf(attempt: Promise<unknown>): Promise<Error> {
  const outcome = await attempt.then(
    () => new Error("expected the token request to fail, but it succeeded"),
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error(`non-Error rejection: ${String(outcome)}`);
  return outcome;
}

function decodeJwt(jwt: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header = "", claims = ""] = jwt.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as Record<string, unknown>,
  };
}

function signatureIsValid(jwt: string, publicKeyPem: string, padding?: number): boolean {
  const [header = "", claims = "", signature = ""] = jwt.split(".");
  const key = createPublicKey(publicKeyPem);
  const keyWithPadding = padding === undefined ? key : { key, padding, saltLength: 32 };
  return verify("sha256", Buffer.from(`${header}.${claims}`), keyWithPadding, Buffer.from(signature, "base64url"));
}

describe("fake Entra with the real msal-node", () => {
  it("issues a verifiable access token for a client secret, in one token request", async () => {
    const tokenRequestsBefore = entra.tokenRequests().length;

    const accessToken = await tokenWithSecret(`${AKS_SERVER_APP_ID}/.default`);

    const newTokenRequests = entra.tokenRequests().slice(tokenRequestsBefore);
    expect(newTokenRequests).toHaveLength(1);
    expect(newTokenRequests[0]?.form).toMatchObject({
      client_id: SECRET_APP.clientId,
      client_secret: SECRET_APP.secret,
      grant_type: "client_credentials",
      scope: `${AKS_SERVER_APP_ID}/.default`,
    });
    expect(entra.issuedTokens.at(-1)).toBe(accessToken);
    expect(signatureIsValid(accessToken, entra.publicKeyPem)).toBe(true);
    const { header, claims } = decodeJwt(accessToken);
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(claims).toMatchObject({
      aud: AKS_SERVER_APP_ID,
      iss: `https://sts.windows.net/${TENANT}/`,
      tid: TENANT,
      appid: SECRET_APP.clientId,
      appidacr: "1",
      ver: "1.0",
    });
    expect(claims.exp).toBe((claims.iat as number) + 3600);
  });

  it("accepts a PS256 client assertion signed by the registered certificate", async () => {
    const tokenRequestsBefore = entra.tokenRequests().length;
    const app = clientApp(
      TENANT,
      {
        clientCertificate: {
          thumbprintSha256: clientCertificate.thumbprintSha256,
          privateKey: clientCertificate.keyPkcs8Pem,
          x5c: clientCertificate.certPem,
        },
      },
      CERTIFICATE_APP_ID,
    );

    const result = await app.acquireTokenByClientCredential({ scopes: [`${AKS_SERVER_APP_ID}/.default`] });

    expect(decodeJwt(result?.accessToken ?? "").claims).toMatchObject({ appid: CERTIFICATE_APP_ID, appidacr: "2" });
    const newTokenRequests = entra.tokenRequests().slice(tokenRequestsBefore);
    expect(newTokenRequests).toHaveLength(1);
    const form = newTokenRequests[0]?.form ?? {};
    expect(form.client_assertion_type).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    expect(form.client_secret).toBeUndefined();
    const assertion = decodeJwt(form.client_assertion ?? "");
    expect(assertion.header.alg).toBe("PS256");
    expect(assertion.header["x5t#S256"]).toBe(Buffer.from(clientCertificate.thumbprintSha256, "hex").toString("base64url"));
    expect(assertion.claims).toMatchObject({
      aud: `${entra.url}${TENANT}/oauth2/v2.0/token`,
      iss: CERTIFICATE_APP_ID,
      sub: CERTIFICATE_APP_ID,
    });
    const assertionSignedWithPss = signatureIsValid(
      form.client_assertion ?? "",
      clientCertificate.publicKeyPem,
      cryptoConstants.RSA_PKCS1_PSS_PADDING,
    );
    expect(assertionSignedWithPss).toBe(true);
  });

  it("refuses a certificate it does not know with AADSTS700027", async () => {
    const stranger = createClientCertificate("not-registered");
    const app = clientApp(
      TENANT,
      { clientCertificate: { thumbprintSha256: stranger.thumbprintSha256, privateKey: stranger.keyPkcs8Pem, x5c: stranger.certPem } },
      CERTIFICATE_APP_ID,
    );

    const error = await failureOf(app.acquireTokenByClientCredential({ scopes: [`${AKS_SERVER_APP_ID}/.default`] }));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toContain("AADSTS700027");
  });

  it("refuses a wrong secret with AADSTS7000215", async () => {
    const error = await failureOf(tokenWithSecret(`${AKS_SERVER_APP_ID}/.default`, "not-the-secret"));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toContain("AADSTS7000215");
    expect((error as ServerError).errorCode).toBe("invalid_client");
  });

  it("refuses an unknown client id with AADSTS700016", async () => {
    const app = clientApp(TENANT, { clientSecret: "whatever" }, "bbbbbbbb-0000-0000-0000-00000000dead");

    const error = await failureOf(app.acquireTokenByClientCredential({ scopes: [`${AKS_SERVER_APP_ID}/.default`] }));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toContain("AADSTS700016");
  });

  it("fails OpenID discovery for an unknown tenant with Entra's AADSTS90002 answer", async () => {
    const discoveryUrl = `${entra.url}no-such-tenant/v2.0/.well-known/openid-configuration`;
    const discovery = await networkClientTrusting(pki.caCertPem).sendGetRequestAsync<Record<string, unknown>>(discoveryUrl);

    const error = await failureOf(tokenWithSecret(`${AKS_SERVER_APP_ID}/.default`, SECRET_APP.secret, "no-such-tenant"));

    expect(discovery.status).toBe(400);
    expect(discovery.body).toMatchObject({ error: "invalid_request", error_codes: [90002] });
    expect(String(discovery.body.error_description)).toMatch(/^AADSTS90002: Tenant 'no-such-tenant' not found\./);
    // msal throws the discovery answer away and reports only that it could not resolve endpoints:
    // a kubelogin that wants to show AADSTS90002 has to look at the discovery document itself.
    expect(error.message).toContain("endpoints_resolution_error");
    expect(entra.tokenRequests().some((recorded) => recorded.path.startsWith("/no-such-tenant/"))).toBe(false);
  });

  it("refuses a token request for an unknown tenant with AADSTS90002", async () => {
    // Handing msal the discovery document skips discovery, so the token endpoint itself gets asked.
    const knownTenantBase = `${entra.url}${TENANT}`;
    const unknownTenantBase = `${entra.url}no-such-tenant`;
    const discovery = await networkClientTrusting(pki.caCertPem).sendGetRequestAsync<object>(
      `${knownTenantBase}/v2.0/.well-known/openid-configuration`,
    );
    const unknownTenantMetadata = JSON.stringify(discovery.body).replaceAll(knownTenantBase, unknownTenantBase);
    const app = clientApp("no-such-tenant", { clientSecret: SECRET_APP.secret }, SECRET_APP.clientId, unknownTenantMetadata);

    const error = await failureOf(app.acquireTokenByClientCredential({ scopes: [`${AKS_SERVER_APP_ID}/.default`] }));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toContain("AADSTS90002");
    expect(entra.tokenRequests().at(-1)?.path).toBe("/no-such-tenant/oauth2/v2.0/token");
  });

  it("answers the next token request with whatever failNext was given, once", async () => {
    entra.failNext(503, { error: "temporarily_unavailable", error_description: "AADSTS90033: Service unavailable." });

    const error = await failureOf(tokenWithSecret(`${AKS_SERVER_APP_ID}/.default`));
    const accessToken = await tokenWithSecret(`${AKS_SERVER_APP_ID}/.default`);

    expect(error.message).toMatch(/AADSTS90033|temporarily_unavailable|503/);
    expect(decodeJwt(accessToken).claims.aud).toBe(AKS_SERVER_APP_ID);
  });

  it("holds an added app's token responses until released, and answers other apps meanwhile", async () => {
    const added = { clientId: "aaaaaaaa-0000-0000-0000-000000000003", secret: "held-Secret.1" };
    entra.addApp(added);
    const held = entra.holdTokenResponses(added.clientId);
    let answered = false;
    const pending = clientApp(TENANT, { clientSecret: added.secret }, added.clientId)
      .acquireTokenByClientCredential({ scopes: [`${AKS_SERVER_APP_ID}/.default`] })
      .finally(() => (answered = true));
    await held.arrived;
    expect(held.waiting()).toBe(1);
    expect(entra.tokenRequests().at(-1)?.form.client_id).toBe(added.clientId);

    // Another app is served while that one waits.
    await tokenWithSecret(`${AKS_SERVER_APP_ID}/.default`);
    expect(answered).toBe(false);

    held.release();
    const result = await pending;
    expect(held.waiting()).toBe(0);
    expect(decodeJwt(result!.accessToken).claims.appid).toBe(added.clientId);
  });

  it("records an unexpected request and answers it with an Entra-shaped 400", async () => {
    const response = await networkClientTrusting(pki.caCertPem).sendGetRequestAsync<Record<string, unknown>>(
      `${entra.url}${TENANT}/oauth2/v2.0/nowhere?probe=1`,
    );

    expect(response.status).toBe(400);
    expect(response.body.error).toBe("invalid_request");
    expect(String(response.body.error_description)).toMatch(/^AADSTS\d+: /);
    expect(entra.requests.at(-1)).toMatchObject({ method: "GET", path: `/${TENANT}/oauth2/v2.0/nowhere`, query: { probe: "1" } });
  });

  it("tells a GET on the token endpoint that only POST is accepted, as Entra does", async () => {
    const response = await networkClientTrusting(pki.caCertPem).sendGetRequestAsync<Record<string, unknown>>(
      `${entra.url}${TENANT}/oauth2/v2.0/token`,
    );

    expect(response.status).toBe(400);
    expect(response.body.error_codes).toEqual([900561]);
    expect(entra.tokenRequests().some((recorded) => recorded.method === "GET")).toBe(false);
  });

  it("keeps a device code pending until the person at the browser enters it (outcome browser)", async () => {
    const publicClient = "aaaaaaaa-0000-0000-0000-000000000003";
    entra.users.addPublicClient(publicClient);
    entra.users.addUser({ username: "bob@contoso.example", password: "unused-Passw0rd" });
    entra.users.deviceCode = { user: "bob@contoso.example", slowDownPolls: 0, pendingPolls: 0, outcome: "browser", interval: 1 };
    const app = new PublicClientApplication({
      auth: { clientId: publicClient, authority: `${entra.url}${TENANT}`, knownAuthorities: [entra.host] },
      system: { networkClient: networkClientTrusting(pki.caCertPem) },
    });
    let userCode = "";
    const signIn = app.acquireTokenByDeviceCode({ scopes: [`${AKS_SERVER_APP_ID}/.default`], deviceCodeCallback: (response) => void (userCode = response.userCode) });
    const polls = (): number => entra.tokenRequests().filter((recorded) => recorded.form.device_code !== undefined).length;
    await expect.poll(polls, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(entra.users.approve("NOT-A-CODE")).toBe(false);
    expect(entra.users.approve(userCode)).toBe(true);

    const result = await signIn;
    expect(result?.account?.username).toBe("bob@contoso.example");
    expect(entra.users.approve(userCode)).toBe(false);
  });
});

describe("fake API server with the real kubectl", () => {
  let apiServer: FakeApiServer;
  let kubectlHome: string;

  beforeAll(async () => {
    apiServer = await startFakeApiServer({ pki, audience: AKS_SERVER_APP_ID, issuerPublicKeyPem: entra.publicKeyPem });
    kubectlHome = await mkdtemp(join(workDir, "home-"));
  });

  afterAll(async () => {
    await apiServer?.close();
  });

  async function kubeconfigWithToken(name: string, token: string): Promise<string> {
    const kubeconfig = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: apiServer.url, "certificate-authority-data": apiServer.caData } }],
      users: [{ name: "fake-user", user: { token } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake-user" } }],
      "current-context": "fake",
    };
    const path = join(kubectlHome, `${name}.kubeconfig`);
    await writeFile(path, JSON.stringify(kubeconfig), { mode: 0o600 });
    return path;
  }

  /** Async on purpose: the fake servers run on this process's event loop, which a sync spawn would block. */
  async function kubectl(version: string, kubeconfig: string, ...args: string[]) {
    const binary = kubectlBinary(version);
    const env = { HOME: kubectlHome, PATH: process.env.PATH ?? "/usr/bin:/bin" };
    return runFile(binary, ["--kubeconfig", kubeconfig, ...args], { env, timeout: 20_000 }).then(
      ({ stdout, stderr }) => ({ exitCode: 0, stdout, stderr }),
      (error: { code?: unknown; stdout?: string; stderr?: string }) => {
        if (typeof error.code !== "number") throw error;
        return { exitCode: error.code, stdout: error.stdout ?? "", stderr: error.stderr ?? "" };
      },
    );
  }

  it("lets kubectl 1.33 list nodes and see who it is with a token from fake Entra", async () => {
    const accessToken = await tokenWithSecret(`${AKS_SERVER_APP_ID}/.default`);
    const kubeconfig = await kubeconfigWithToken("good", accessToken);

    const getNodes = await kubectl("1.33", kubeconfig, "get", "nodes");
    const whoami = await kubectl("1.33", kubeconfig, "auth", "whoami");

    expect(getNodes).toMatchObject({ exitCode: 0 });
    expect(getNodes.stdout).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    expect(getNodes.stdout).toMatch(/node-1\s+Ready\s+<none>\s+5d\s+v1\.30\.0/);
    expect(whoami).toMatchObject({ exitCode: 0 });
    expect(whoami.stdout).toContain(String(decodeJwt(accessToken).claims.oid));
    expect(whoami.stdout).toContain(AKS_SERVER_APP_ID);
    expect(apiServer.acceptedTokens).toContain(accessToken);
    expect(apiServer.requests.filter((recorded) => !recorded.authorized)).toEqual([]);
  });

  it("turns kubectl away when the token was issued for another audience", async () => {
    const wrongAudienceToken = await tokenWithSecret("api://some-other-app/.default");
    const kubeconfig = await kubeconfigWithToken("wrong-audience", wrongAudienceToken);

    const getNodes = await kubectl("1.33", kubeconfig, "get", "nodes");

    expect(getNodes.exitCode).toBe(1);
    expect(getNodes.stderr).toContain("You must be logged in");
    expect(apiServer.requests.at(-1)).toMatchObject({ authorized: false, reason: expect.stringContaining("audience") });
    expect(apiServer.acceptedTokens).not.toContain(wrongAudienceToken);
  });

  it("works with kubectl 1.27 too", async () => {
    const accessToken = await tokenWithSecret(`${AKS_SERVER_APP_ID}/.default`);
    const kubeconfig = await kubeconfigWithToken("old-kubectl", accessToken);

    const getNodes = await kubectl("1.27", kubeconfig, "get", "nodes");

    expect(getNodes).toMatchObject({ exitCode: 0 });
    expect(getNodes.stdout).toMatch(/node-1\s+Ready/);
  });
});
