// A small Microsoft Entra ID (v2.0 endpoints) over real HTTPS on loopback, for driving msal-node
// and kubelogin end to end. It implements what those clients actually send — OpenID discovery,
// JWKS and the client-credentials grant with a secret or a certificate-signed client assertion —
// and answers everything else the way Entra answers bad requests: a 400/401 JSON error whose
// error_description starts with "AADSTS<code>: ". Every request, good or bad, is recorded.
//
// Access tokens are v1.0 tokens, as Entra issues for resources such as the AKS server app
// (accessTokenAcceptedVersion unset): iss is "https://sts.windows.net/<tenant>/", aud is the bare
// resource (the scope minus "/.default"), and the app is named by appid/appidacr.
import {
  X509Certificate,
  constants as cryptoConstants,
  createHash,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TestPki } from "../support/pki.js";
import { createAuthCodeFlow, type FakeAuthCode } from "./entra-authcode.js";
import { createV1Endpoints, type FakeEntraV1 } from "./entra-v1.js";
import { createUserFlows, type FakeEntraUsers } from "./entra-user-flows.js";

export interface FakeEntraApp {
  clientId: string;
  secret?: string;
  /** Valid as well as `secret`, as the old and the new secret are while one is rotated. */
  alsoValidSecrets?: readonly string[];
  certificatePem?: string;
  /** Federated identity credentials (workload identity, GitHub Actions, Azure Pipelines). */
  federated?: FederatedCredential[];
}

// --- federated identity credentials (workloadidentity / azurepipelines) ---
/** What Entra matches an external token against: issuer and subject exactly, audience among the token's. */
export interface FederatedCredential {
  issuer: string;
  subject: string;
  /** Default api://AzureADTokenExchange, as Entra's portal fills it in. */
  audience?: string;
}
// --- end federated identity credentials ---

export interface FakeEntraOptions {
  pki: TestPki;
  tenants: string[];
  apps: FakeEntraApp[];
  /** Lifetime of issued access tokens; default 3600. */
  tokenLifetimeSeconds?: number;
  /** Default 0: the OS picks a free port. */
  port?: number;
  // --- proxies (issue 12) ---
  /**
   * The name it goes by in its URLs and metadata (default 127.0.0.1); it still listens on
   * 127.0.0.1. "entra.kubelogin.test" is in the test server certificate and resolves only through
   * test/fakes/fake-proxy.ts, so a client that reaches it went through the proxy.
   */
  hostname?: string;
  // --- end proxies ---
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** The form-urlencoded body, decoded; empty for other bodies. */
  form: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeEntra {
  /** "https://127.0.0.1:PORT/": the authority host, with trailing slash, as kubelogin's --authority-host takes it. */
  url: string;
  /** "127.0.0.1:PORT", for msal's knownAuthorities. */
  host: string;
  requests: RecordedRequest[];
  /** Only the POSTs to a token endpoint, in order. */
  tokenRequests(): RecordedRequest[];
  /** Every access_token handed out, in order. */
  issuedTokens: string[];
  /** SPKI PEM of the key that signs the access tokens. */
  publicKeyPem: string;
  /** The next token request gets exactly this answer instead of being processed (one shot). */
  failNext(status: number, body: object): void;
  // --- transient faults (issue 12) ---
  /** The next token requests meet these faults, one each, in order; then they are served again. */
  injectFaults(faults: readonly TransientFault[]): void;
  // --- end transient faults ---
  // --- held responses (issue 11) ---
  /** Registers one more app (the concurrency tests use several service principals). */
  addApp(app: FakeEntraApp): void;
  /**
   * Token requests of this client are recorded but not answered until release(): a slow
   * identity provider, or a kubelogin blocked mid-request while it holds the cache lock.
   */
  holdTokenResponses(clientId: string): HeldResponses;
  // --- end held responses ---
  /**
   * An access token for a managed identity, signed like every other token: IMDS and App Service
   * only relay what Entra issues for the identity. Recorded in issuedTokens.
   */
  issueManagedIdentityToken(clientId: string, resource: string): { accessToken: string; expiresOn: number };
  /** Browser sign-ins: the authorization endpoint and the authorization_code grant (entra-authcode.ts). */
  authCode: FakeAuthCode;
  /** The ADAL v1 device-code and token endpoints (entra-v1.ts). */
  v1: FakeEntraV1;
  /** User sign-ins: public clients, users, the device-code script (entra-user-flows.ts). */
  users: FakeEntraUsers;
  /** Token requests of one grant_type so far ("client_credentials", "password", "refresh_token", DEVICE_CODE_GRANT). */
  grantCount(grantType: string): number;
  close(): Promise<void>;
}

// --- transient faults (issue 12) ---
/** A status with optional headers (Retry-After), a dropped connection, or no answer at all. */
export type TransientFault = { status: number; headers?: Record<string, string>; body?: object } | "reset" | "hang";
// --- end transient faults ---

// --- held responses (issue 11) ---
export interface HeldResponses {
  /** Resolves once the first held request has arrived (it is in `requests` by then). */
  readonly arrived: Promise<void>;
  /** How many requests are waiting now. */
  waiting(): number;
  /** Answers the waiting requests, and every later one of this client at once. */
  release(): void;
}
// --- end held responses ---

interface Reply {
  status: number;
  body: object;
  /** Sent as text/html instead of `body` (the form_post page of the authorization endpoint). */
  html?: string;
}

interface RouteContext {
  tenant: string;
  request: RecordedRequest;
}

interface Route {
  method: string;
  pattern: RegExp; // first capture group is the tenant
  handle(context: RouteContext): Reply;
}

const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
const CLIENT_ASSERTION_TYPE_JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// Entra tolerates this much clock difference when checking a client assertion's nbf/exp.
const ASSERTION_CLOCK_SKEW_SECONDS = 300;

export async function startFakeEntra(options: FakeEntraOptions): Promise<FakeEntra> {
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  const signingKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicKeyPem = signingKeys.publicKey.export({ type: "spki", format: "pem" }).toString();
  const signingKeyId = base64Url(
    createHash("sha256").update(signingKeys.publicKey.export({ type: "spki", format: "der" })).digest(),
  ).slice(0, 27);
  const appsById = new Map(options.apps.map((app) => [app.clientId, app]));
  const knownTenants = new Set(options.tenants);

  const requests: RecordedRequest[] = [];
  const issuedTokens: string[] = [];
  let pendingFailure: Reply | undefined;
  const faults: TransientFault[] = [];
  const holds = new Map<string, { arrive(): void; gate: Promise<void>; waiting: number }>();
  let origin = ""; // known once the server listens

  const tenantBase = (tenant: string): string => `${origin}/${tenant}`;
  const userFlows = createUserFlows({
    origin: () => origin,
    tokenLifetimeSeconds,
    signJwt: (claims) => signJwt({ alg: "RS256", typ: "JWT", kid: signingKeyId }, claims, signingKeys.privateKey),
    issued: (accessToken) => void issuedTokens.push(accessToken),
    entraError,
    missingParameter,
    objectIdFor: deterministicUuid,
  });
  const tokenEndpoint = (tenant: string): string => `${tenantBase(tenant)}/oauth2/v2.0/token`;
  const userFlowContext = {
    origin: () => origin,
    tokenLifetimeSeconds,
    signJwt: (claims: object) => signJwt({ alg: "RS256", typ: "JWT", kid: signingKeyId }, claims, signingKeys.privateKey),
    issued: (accessToken: string) => void issuedTokens.push(accessToken),
    entraError,
    missingParameter,
    objectIdFor: deterministicUuid,
  };
  const authCodeFlow = createAuthCodeFlow(userFlowContext);
  const v1Endpoints = createV1Endpoints({
    ...userFlowContext,
    checkApp(clientId, tenant, form, audience) {
      const app = appsById.get(clientId);
      if (app === undefined) return entraError(400, "unauthorized_client", 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
      return checkClientCredential(app, form, audience);
    },
  });

  function openIdConfiguration({ tenant }: RouteContext): Reply {
    const base = tenantBase(tenant);
    return {
      status: 200,
      body: {
        token_endpoint: tokenEndpoint(tenant),
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        // msal insists that the issuer shares scheme and host with the authority.
        issuer: `${base}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: "https://graph.microsoft.com/oidc/userinfo",
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "ver"],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: "EU",
        cloud_instance_name: "microsoftonline.com",
        cloud_graph_host_name: "graph.windows.net",
        msgraph_host: "graph.microsoft.com",
        rbac_url: "https://pas.windows.net",
      },
    };
  }

  function signingKeySet(): Reply {
    const jwk = signingKeys.publicKey.export({ format: "jwk" });
    return { status: 200, body: { keys: [{ kty: "RSA", use: "sig", kid: signingKeyId, n: jwk.n, e: jwk.e }] } };
  }

  function token({ tenant, request }: RouteContext): Reply {
    const { form } = request;
    if (form.grant_type === undefined) return missingParameter("grant_type");
    const authCodeGrant = authCodeFlow.token(tenant, form);
    if (authCodeGrant !== undefined) return authCodeGrant;
    const userGrant = userFlows.token(tenant, form);
    if (userGrant !== undefined) return userGrant;
    if (form.grant_type !== "client_credentials") {
      return entraError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
    }
    if (form.client_id === undefined) return missingParameter("client_id");
    if (form.scope === undefined) return missingParameter("scope");
    const app = appsById.get(form.client_id);
    if (app === undefined) {
      return entraError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${form.client_id}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    const credentialProblem = checkClientCredential(app, form, tokenEndpoint(tenant));
    if (credentialProblem !== undefined) return credentialProblem;

    const resource = resourceOfDefaultScope(form.scope);
    if (resource === undefined) {
      return entraError(
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${form.scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const accessToken = issueAccessToken(tenant, app, form, resource);
    issuedTokens.push(accessToken);
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        expires_in: tokenLifetimeSeconds,
        ext_expires_in: tokenLifetimeSeconds,
        access_token: accessToken,
        scope: form.scope,
      },
    };
  }

  function issueAccessToken(tenant: string, app: FakeEntraApp, form: Record<string, string>, resource: string): string {
    const now = Math.floor(Date.now() / 1000);
    // Entra gives a service principal one object id per tenant; deriving it keeps it stable across runs.
    const objectId = deterministicUuid(`${tenant}/${app.clientId}`);
    const issuer = `https://sts.windows.net/${tenant}/`;
    const claims = {
      aud: resource,
      iss: issuer,
      iat: now,
      nbf: now,
      exp: now + tokenLifetimeSeconds,
      appid: app.clientId,
      // "1" = authenticated with a secret, "2" = with a certificate, as Entra reports it.
      appidacr: form.client_assertion === undefined ? "1" : "2",
      idp: issuer,
      oid: objectId,
      sub: objectId,
      tid: tenant,
      uti: base64Url(Buffer.from(randomUUID().replaceAll("-", ""), "hex")),
      ver: "1.0",
    };
    return signJwt({ alg: "RS256", typ: "JWT", kid: signingKeyId }, claims, signingKeys.privateKey);
  }

  const routes: Route[] = [
    { method: "GET", pattern: /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/, handle: openIdConfiguration },
    { method: "GET", pattern: /^\/([^/]+)\/discovery\/v2\.0\/keys$/, handle: signingKeySet },
    { method: "POST", pattern: /^\/([^/]+)\/oauth2\/v2\.0\/token$/, handle: token },
    { method: "GET", pattern: /^\/([^/]+)\/oauth2\/v2\.0\/authorize$/, handle: authCodeFlow.authorize },
    { method: "POST", pattern: /^\/([^/]+)\/oauth2\/devicecode$/, handle: v1Endpoints.deviceCode },
    { method: "POST", pattern: /^\/([^/]+)\/oauth2\/token$/, handle: v1Endpoints.token },
    { method: "POST", pattern: /^\/([^/]+)\/oauth2\/v2\.0\/devicecode$/, handle: userFlows.deviceCodeEndpoint },
  ];
  const isTokenRequest = (request: RecordedRequest): boolean =>
    request.method === "POST" && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(request.path);

  function route(request: RecordedRequest): Reply {
    if (isTokenRequest(request) && pendingFailure !== undefined) {
      const failure = pendingFailure;
      pendingFailure = undefined;
      return failure;
    }
    const matching = routes.filter((candidate) => candidate.pattern.test(request.path));
    for (const candidate of matching) {
      if (candidate.method !== request.method) continue;
      const tenant = decodeURIComponent(candidate.pattern.exec(request.path)?.[1] ?? "");
      if (!knownTenants.has(tenant)) return unknownTenant(tenant);
      return candidate.handle({ tenant, request });
    }
    const [knownPath] = matching;
    if (knownPath !== undefined) {
      return entraError(
        400,
        "invalid_request",
        900561,
        `The endpoint only accepts ${knownPath.method} requests. Received a ${request.method} request.`,
      );
    }
    // Fake-only: Entra would answer an unknown path with an HTML 404; a JSON 400 lets the test
    // see in the client's own error message what the client tried.
    return entraError(400, "invalid_request", 90023, `Fake Entra has no route for ${request.method} ${request.path}.`);
  }

  // --- proof-of-possession (token_type=pop) ---
  // Entra binds the access token to the client's key: `req_cnf` names the key's thumbprint, the
  // token carries it as cnf.kid, and the response says token_type "pop". Any grant can ask for it.
  function bindToPopKey(request: RecordedRequest, reply: Reply): Reply {
    if (!isTokenRequest(request) || request.form.token_type !== "pop") return reply;
    let kid: unknown;
    try {
      kid = (JSON.parse(Buffer.from(request.form.req_cnf ?? "", "base64url").toString("utf8")) as { kid?: unknown }).kid;
    } catch {
      kid = undefined;
    }
    if (typeof kid !== "string" || kid === "") return entraError(400, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid: req_cnf.");
    const body = reply.body as { access_token?: unknown };
    if (reply.status !== 200 || typeof body.access_token !== "string") return reply;
    const parsed = parseJwt(body.access_token);
    if (parsed === undefined) return reply;
    const bound = signJwt(parsed.header, { ...parsed.payload, cnf: { kid, xms_ksl: "sw" } }, signingKeys.privateKey);
    const index = issuedTokens.lastIndexOf(body.access_token);
    if (index >= 0) issuedTokens[index] = bound;
    return { ...reply, body: { ...reply.body, access_token: bound, token_type: "pop" } };
  }
  // --- end proof-of-possession ---

  const server: Server = createServer({ cert: options.pki.serverCertPem, key: options.pki.serverKeyPem });
  server.on("request", (incoming: IncomingMessage, response: ServerResponse) => {
    readBody(incoming)
      .then(async (body) => {
        const recorded = recordRequest(incoming, body);
        requests.push(recorded);
        // --- held responses (issue 11) ---
        const hold = isTokenRequest(recorded) ? holds.get(recorded.form.client_id ?? "") : undefined;
        if (hold) {
          hold.waiting += 1;
          hold.arrive();
          await hold.gate;
          hold.waiting -= 1;
        }
        // --- end held responses ---
        // --- transient faults (issue 12) ---
        // v2 and v1 (--legacy) token endpoints alike.
        const fault = recorded.method === "POST" && /\/oauth2\/(v2\.0\/)?token$/.test(recorded.path) ? faults.shift() : undefined;
        if (fault === "reset") return void incoming.socket.destroy();
        if (fault === "hang") return;
        if (fault !== undefined) {
          response.writeHead(fault.status, { "content-type": "application/json; charset=utf-8", ...fault.headers });
          return void response.end(JSON.stringify(fault.body ?? { error: "temporarily_unavailable", error_description: "AADSTS90033: A transient error has occurred. Please try again." }));
        }
        // --- end transient faults ---
        const reply = bindToPopKey(recorded, route(recorded));
        const clientRequestId = incoming.headers["client-request-id"];
        response.writeHead(reply.status, {
          "content-type": reply.html === undefined ? "application/json; charset=utf-8" : "text/html; charset=utf-8",
          "cache-control": "no-store, no-cache",
          "x-ms-request-id": randomUUID(),
          ...(typeof clientRequestId === "string" ? { "client-request-id": clientRequestId } : {}),
        });
        response.end(reply.html ?? JSON.stringify(reply.body));
      })
      .catch((error: unknown) => {
        response.writeHead(500, { "content-type": "text/plain" });
        response.end(String(error));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `${options.hostname ?? "127.0.0.1"}:${port}`;
  origin = `https://${host}`;

  return {
    url: `${origin}/`,
    host,
    requests,
    tokenRequests: () => requests.filter(isTokenRequest),
    issuedTokens,
    publicKeyPem,
    failNext(status, body) {
      pendingFailure = { status, body };
    },
    injectFaults(list) {
      faults.push(...list);
    },
    addApp(app) {
      appsById.set(app.clientId, app);
    },
    holdTokenResponses(clientId) {
      let arrive = (): void => undefined;
      let open = (): void => undefined;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const hold = { arrive, gate: new Promise<void>((resolve) => (open = resolve)), waiting: 0 };
      holds.set(clientId, hold);
      return {
        arrived,
        waiting: () => hold.waiting,
        release() {
          holds.delete(clientId);
          open();
        },
      };
    },
    issueManagedIdentityToken(clientId, resource) {
      const accessToken = issueAccessToken(options.tenants[0]!, { clientId }, { client_assertion: "managed-identity" }, resource);
      issuedTokens.push(accessToken);
      return { accessToken, expiresOn: Math.floor(Date.now() / 1000) + tokenLifetimeSeconds };
    },
    authCode: authCodeFlow.controller,
    v1: v1Endpoints.controller,
    users: userFlows.controller,
    grantCount: (grantType) => requests.filter((request) => isTokenRequest(request) && request.form.grant_type === grantType).length,
    close: () => closeServer(server),
  };
}

function checkClientCredential(
  app: FakeEntraApp,
  form: Record<string, string>,
  expectedAudience: string,
): Reply | undefined {
  if (form.client_secret !== undefined) {
    if (form.client_secret === app.secret || app.alsoValidSecrets?.includes(form.client_secret)) return undefined;
    return entraError(
      401,
      "invalid_client",
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
    );
  }
  if (form.client_assertion !== undefined) {
    if (form.client_assertion_type !== CLIENT_ASSERTION_TYPE_JWT_BEARER) return missingParameter("client_assertion_type");
    if (app.federated !== undefined) return checkFederatedAssertion(app.federated, form.client_assertion);
    return checkClientAssertion(app, form.client_assertion, expectedAudience);
  }
  return entraError(
    401,
    "invalid_client",
    7000218,
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  );
}

function checkClientAssertion(app: FakeEntraApp, assertion: string, expectedAudience: string): Reply | undefined {
  const parsed = parseJwt(assertion);
  if (parsed === undefined) return entraError(401, "invalid_client", 50027, "JWT token is invalid or malformed.");
  const { header, payload } = parsed;
  const registered = app.certificatePem === undefined ? undefined : new X509Certificate(app.certificatePem);
  // Entra finds the verification key by thumbprint, so an unregistered certificate fails before the signature is checked.
  const presentedThumbprint = typeof header["x5t#S256"] === "string" ? header["x5t#S256"] : header.x5t;
  const registeredThumbprints =
    registered === undefined
      ? []
      : [base64Url(createHash("sha256").update(registered.raw).digest()), base64Url(createHash("sha1").update(registered.raw).digest())];
  if (registered === undefined || typeof presentedThumbprint !== "string" || !registeredThumbprints.includes(presentedThumbprint)) {
    return entraError(
      401,
      "invalid_client",
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${String(presentedThumbprint)}']`,
    );
  }
  if (!verifyJwtSignature(parsed, registered.publicKey)) {
    return entraError(401, "invalid_client", 700027, "Client assertion failed signature validation.");
  }
  if (payload.iss !== app.clientId || payload.sub !== app.clientId) {
    return entraError(401, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
  }
  if (payload.aud !== expectedAudience) {
    return entraError(
      401,
      "invalid_client",
      700027,
      `Client assertion audience '${String(payload.aud)}' is not valid; expected '${expectedAudience}'.`,
    );
  }
  const now = Math.floor(Date.now() / 1000);
  const notBefore = typeof payload.nbf === "number" ? payload.nbf : now;
  const expiry = typeof payload.exp === "number" ? payload.exp : 0;
  if (notBefore > now + ASSERTION_CLOCK_SKEW_SECONDS || expiry < now - ASSERTION_CLOCK_SKEW_SECONDS) {
    return entraError(
      401,
      "invalid_client",
      700024,
      `Client assertion is not within its valid time range. Current time: ${isoSeconds(now)}, assertion valid from ${isoSeconds(notBefore)}, expiry time of assertion ${isoSeconds(expiry)}.`,
    );
  }
  return undefined;
}

// --- federated identity credentials (workloadidentity / azurepipelines) ---
const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/**
 * Entra checks an external token against the app's federated credentials: issuer + subject match
 * one of them, the audience is that credential's, and the token is within its lifetime. (Entra
 * also verifies the signature with the issuer's published keys; the fake issuers here have none.)
 */
function checkFederatedAssertion(credentials: FederatedCredential[], assertion: string): Reply | undefined {
  const parsed = parseJwt(assertion);
  if (parsed === undefined) return entraError(401, "invalid_client", 50027, "JWT token is invalid or malformed.");
  const { payload } = parsed;
  const audiences = Array.isArray(payload.aud) ? payload.aud.map(String) : [String(payload.aud)];
  const match = credentials.find((c) => c.issuer === payload.iss && c.subject === payload.sub);
  if (match === undefined) {
    return entraError(
      400,
      "invalid_request",
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(payload.iss)}'. Assertion Subject: '${String(payload.sub)}'. Assertion Audience: '${audiences.join(",")}'.`,
    );
  }
  if (!audiences.includes(match.audience ?? TOKEN_EXCHANGE_AUDIENCE)) {
    return entraError(400, "invalid_request", 700212, `No matching federated identity record found for presented assertion audience '${audiences.join(",")}'.`);
  }
  const now = Math.floor(Date.now() / 1000);
  const expiry = typeof payload.exp === "number" ? payload.exp : 0;
  if (expiry < now) {
    return entraError(
      400,
      "invalid_client",
      700024,
      `Client assertion is not within its valid time range. Current time: ${isoSeconds(now)}, expiry time of assertion ${isoSeconds(expiry)}.`,
    );
  }
  return undefined;
}
// --- end federated identity credentials ---

function unknownTenant(tenant: string): Reply {
  return entraError(
    400,
    "invalid_request",
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  );
}

function missingParameter(name: string): Reply {
  return entraError(400, "invalid_request", 900144, `The request body must contain the following parameter: '${name}'.`);
}

function entraError(status: number, error: string, code: number, message: string): Reply {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

/** "api://x/.default" → "api://x"; undefined unless the scope is exactly one resource's .default. */
function resourceOfDefaultScope(scope: string): string | undefined {
  const scopes = scope.split(" ").filter((part) => part !== "");
  const defaults = scopes.filter((part) => part.endsWith("/.default"));
  // msal may add openid/profile/offline_access next to the resource scope; Entra ignores them for this grant.
  const others = scopes.filter((part) => !part.endsWith("/.default") && !["openid", "profile", "offline_access"].includes(part));
  const only = defaults[0];
  if (defaults.length !== 1 || others.length !== 0 || only === undefined) return undefined;
  return only.slice(0, -"/.default".length);
}

interface ParsedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signedPart: string;
  signature: Buffer;
}

function parseJwt(jwt: string): ParsedJwt | undefined {
  const parts = jwt.split(".");
  if (parts.length !== 3) return undefined;
  const [encodedHeader = "", encodedPayload = "", encodedSignature = ""] = parts;
  try {
    const header: unknown = JSON.parse(Buffer.from(encodedHeader, "base64url").toString("utf8"));
    const payload: unknown = JSON.parse(Buffer.from(encodedPayload, "base64url").toString("utf8"));
    if (!isPlainObject(header) || !isPlainObject(payload)) return undefined;
    return {
      header,
      payload,
      signedPart: `${encodedHeader}.${encodedPayload}`,
      signature: Buffer.from(encodedSignature, "base64url"),
    };
  } catch {
    return undefined;
  }
}

function verifyJwtSignature(jwt: ParsedJwt, publicKey: KeyObject): boolean {
  const data = Buffer.from(jwt.signedPart);
  if (jwt.header.alg === "RS256") return verify("sha256", data, publicKey, jwt.signature);
  if (jwt.header.alg === "PS256") {
    const pss = { key: publicKey, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    return verify("sha256", data, pss, jwt.signature);
  }
  return false;
}

function signJwt(header: object, payload: object, privateKey: KeyObject): string {
  const signedPart = `${base64Url(Buffer.from(JSON.stringify(header)))}.${base64Url(Buffer.from(JSON.stringify(payload)))}`;
  return `${signedPart}.${base64Url(sign("sha256", Buffer.from(signedPart), privateKey))}`;
}

function recordRequest(incoming: IncomingMessage, body: string): RecordedRequest {
  const url = new URL(incoming.url ?? "/", "https://fake-entra.invalid");
  const contentType = incoming.headers["content-type"] ?? "";
  const form = contentType.startsWith("application/x-www-form-urlencoded")
    ? Object.fromEntries(new URLSearchParams(body))
    : {};
  return {
    method: incoming.method ?? "",
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    form,
    headers: { ...incoming.headers },
  };
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive sockets from fetch/kubectl would otherwise hold close() open until they time out.
  server.closeAllConnections();
  await closed;
}

function deterministicUuid(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function base64Url(bytes: Buffer): string {
  return bytes.toString("base64url");
}

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
