// Managed identity (compat spec §3.8): system-assigned, or user-assigned by client ID or ARM
// resource ID (the client ID wins, also when it came from AZURE_CLIENT_ID, as upstream). The
// source is detected from the environment as azidentity does it: Service Fabric, App Service /
// Functions, Azure Arc, Azure ML, Cloud Shell, else IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST moves it).
//
// Not @azure/identity's ManagedIdentityCredential, which fails three requirements here: it turns
// into a workload-identity token exchange whenever AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE
// are set (variables a pod sets for other programs; azidentity, upstream's SDK, never does this);
// it does not pass the abort signal to the MSAL request nor to its retry sleeps, so --timeout
// cannot cancel them; and its MSAL layer reads process.env and remembers the source for the whole
// process, so the Runtime's environment is ignored. The protocol is a single GET (or POST) per
// source, done here through the run's fetch and signal, with the run's retry policy (http.ts) for
// every source. Service Fabric alone is not fetch: see serviceFabricAttempt.
import { dirname, join, resolve as resolvePath } from "node:path";
import { KubeloginError, NetworkError, AuthenticationError } from "../errors.js";
import type { Env, GetTokenOptions } from "../options/resolve.js";
import { proxyFor } from "../proxy.js";
import { scopeFor } from "./authority.js";
import { DEFAULT_RETRY, IMDS_RETRY, networkErrorFor, withRetries } from "./http.js";
import { extractAadsts, extractEntraIds, hintFor } from "./msal/errors.js";
import type { AccessToken, LoginDeps, LoginPlan, LoginStrategy, PlanContext } from "./types.js";

const messages = {
  create: "failed to create managed identity credential",
  serviceFabricUserAssigned:
    "the Service Fabric API doesn't support specifying a user-assigned identity at runtime. The identity is determined by cluster resource configuration. See https://aka.ms/servicefabricmi",
  arcUserAssigned: "the Azure Arc API doesn't support user-assigned managed identities",
  cloudShellUserAssigned: "the Cloud Shell API doesn't support user-assigned managed identities",
  azureMlResourceId: "the Azure ML API supports specifying a user-assigned managed identity by client ID only",
  identityNotAssigned: "ManagedIdentityCredential: the requested identity isn't assigned to this resource",
  systemAssignedFailed: "ManagedIdentityCredential: failed to authenticate a system assigned identity",
  authenticationFailed: "ManagedIdentityCredential authentication failed",
  arcChallenge: "ManagedIdentityCredential: did not receive a value from WWW-Authenticate header",
  arcBadChallenge: "ManagedIdentityCredential: unexpected WWW-Authenticate header from Azure Arc Managed Identity Endpoint",
  arcKeyFile: "ManagedIdentityCredential: invalid Azure Arc key file",
  badEndpoint: "is not a valid URL",
} as const;

const IMDS_ENDPOINT = "http://169.254.169.254/metadata/identity/oauth2/token";
const IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token";
const ARC_MAX_KEY_BYTES = 4096;

export type ManagedId = { readonly kind: "system" } | { readonly kind: "clientId" | "resourceId"; readonly value: string };

export type MsiSource =
  | { readonly kind: "imds" | "appService" | "azureArc" | "cloudShell"; readonly endpoint: string }
  | { readonly kind: "serviceFabric"; readonly endpoint: string; readonly thumbprint: string }
  | { readonly kind: "azureMl"; readonly endpoint: string; readonly defaultClientId: string };

export function managedIdFor(o: Pick<GetTokenOptions, "clientId" | "identityResourceId">): ManagedId {
  if (o.clientId !== "") return { kind: "clientId", value: o.clientId };
  if (o.identityResourceId !== "") return { kind: "resourceId", value: o.identityResourceId };
  return { kind: "system" };
}

/** azidentity's detection order; a variable counts when it is present, even empty, as Go's LookupEnv. */
export function detectSource(env: Env, id: ManagedId): MsiSource {
  const identityEndpoint = env.IDENTITY_ENDPOINT;
  if (identityEndpoint !== undefined) {
    if (env.IDENTITY_HEADER !== undefined) {
      if (env.IDENTITY_SERVER_THUMBPRINT !== undefined) {
        if (id.kind !== "system") throw new KubeloginError(messages.serviceFabricUserAssigned, { hint: "drop --client-id / --identity-resource-id (and AZURE_CLIENT_ID)" });
        return { kind: "serviceFabric", endpoint: checkedUrl("IDENTITY_ENDPOINT", identityEndpoint), thumbprint: env.IDENTITY_SERVER_THUMBPRINT };
      }
      return { kind: "appService", endpoint: checkedUrl("IDENTITY_ENDPOINT", identityEndpoint) };
    }
    if (env.IMDS_ENDPOINT !== undefined) {
      if (id.kind !== "system") throw new KubeloginError(messages.arcUserAssigned, { hint: "drop --client-id / --identity-resource-id (and AZURE_CLIENT_ID): Azure Arc has only the machine's identity" });
      return { kind: "azureArc", endpoint: checkedUrl("IDENTITY_ENDPOINT", identityEndpoint) };
    }
  } else if (env.MSI_ENDPOINT !== undefined) {
    const endpoint = checkedUrl("MSI_ENDPOINT", env.MSI_ENDPOINT);
    if (env.MSI_SECRET !== undefined) {
      if (id.kind === "resourceId") throw new KubeloginError(messages.azureMlResourceId, { hint: "pass --client-id instead of --identity-resource-id" });
      return { kind: "azureMl", endpoint, defaultClientId: env.DEFAULT_IDENTITY_CLIENT_ID ?? "" };
    }
    if (id.kind !== "system") throw new KubeloginError(messages.cloudShellUserAssigned, { hint: "drop --client-id / --identity-resource-id (and AZURE_CLIENT_ID) in Cloud Shell" });
    return { kind: "cloudShell", endpoint };
  }
  const podIdentityHost = env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  if (podIdentityHost) return { kind: "imds", endpoint: checkedUrl("AZURE_POD_IDENTITY_AUTHORITY_HOST", `${podIdentityHost.replace(/\/+$/, "")}${IMDS_TOKEN_PATH}`) };
  return { kind: "imds", endpoint: IMDS_ENDPOINT };
}

function checkedUrl(name: string, value: string): string {
  try {
    new URL(value);
    return value;
  } catch {
    throw new KubeloginError(`${name} ${JSON.stringify(value)} ${messages.badEndpoint}`, { hint: `fix or unset ${name}` });
  }
}

/** The v1 resource a managed identity endpoint takes: the scope without its /.default suffix. */
export function msiResource(serverId: string): string {
  return scopeFor(serverId).slice(0, -"/.default".length);
}

export interface MsiSettings {
  /** Where the Azure Arc agent writes the key its challenge names; by default the platform's, as azidentity's arcKeyDirectory. */
  readonly arcKeyDir?: string;
}

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext, settings: MsiSettings): Promise<LoginPlan> {
  const id = managedIdFor(o);
  let source: MsiSource;
  try {
    source = detectSource(context.env, id);
  } catch (err) {
    throw err instanceof KubeloginError ? err.wrap(messages.create) : err;
  }
  const resource = msiResource(o.serverId);
  const identity = id.kind === "system" ? ["system"] : [id.kind, id.value];
  return {
    cacheKey: ["msi", source.kind, source.endpoint, ...identity, resource],
    inputs: [],
    warnings: [],
    acquire: (deps) => acquireToken(source, id, resource, settings, deps),
  };
}

interface MsiRequest {
  readonly method: "GET" | "POST";
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

function withQuery(endpoint: string, params: Record<string, string>): string {
  const url = new URL(endpoint);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

/** The user-assigned id as each API spells it: IMDS says msi_res_id, App Service mi_res_id. */
function idParams(id: ManagedId, resourceIdName: string): Record<string, string> {
  if (id.kind === "clientId") return { client_id: id.value };
  if (id.kind === "resourceId") return { [resourceIdName]: id.value };
  return {};
}

export function tokenRequest(source: MsiSource, id: ManagedId, resource: string, env: Env): MsiRequest {
  switch (source.kind) {
    case "imds":
      return { method: "GET", url: withQuery(source.endpoint, { "api-version": "2018-02-01", resource, ...idParams(id, "msi_res_id") }), headers: { Metadata: "true" } };
    case "appService":
      return {
        method: "GET",
        url: withQuery(source.endpoint, { "api-version": "2019-08-01", resource, ...idParams(id, "mi_res_id") }),
        headers: { "X-IDENTITY-HEADER": env.IDENTITY_HEADER ?? "" },
      };
    case "serviceFabric":
      return { method: "GET", url: withQuery(source.endpoint, { "api-version": "2019-07-01-preview", resource }), headers: { Secret: env.IDENTITY_HEADER ?? "" } };
    case "azureArc":
      return { method: "GET", url: withQuery(source.endpoint, { "api-version": "2019-11-01", resource }), headers: { Metadata: "true" } };
    case "azureMl":
      return {
        method: "GET",
        url: withQuery(source.endpoint, { "api-version": "2017-09-01", resource, clientid: id.kind === "clientId" ? id.value : source.defaultClientId }),
        headers: { secret: env.MSI_SECRET ?? "" },
      };
    case "cloudShell":
      return {
        method: "POST",
        url: source.endpoint,
        headers: { Metadata: "true", "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ resource }).toString(),
      };
  }
}

interface MsiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function acquireToken(source: MsiSource, id: ManagedId, resource: string, settings: MsiSettings, deps: LoginDeps): Promise<AccessToken> {
  deps.log.v(5, "using credential: ManagedIdentityCredential");
  deps.log.v(5, () => `managed identity source: ${source.kind} at ${source.endpoint}, identity: ${id.kind === "system" ? "system-assigned" : `${id.kind} ${id.value}`}`);
  const env = deps.rt.env;
  const secrets = [env.IDENTITY_HEADER, env.MSI_SECRET].filter((s): s is string => !!s);
  deps.log.addSecrets(secrets);
  try {
    const request = tokenRequest(source, id, resource, env);
    let response = await send(request, source, deps);
    if (source.kind === "azureArc" && response.status === 401) response = await answerArcChallenge(request, response, source, settings, deps);
    return parseResponse(response, source, id, deps);
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    throw err instanceof KubeloginError ? err.wrap("failed to get token") : err;
  }
}

async function send(request: MsiRequest, source: MsiSource, deps: LoginDeps): Promise<MsiResponse> {
  const attempt =
    source.kind === "serviceFabric"
      ? () => serviceFabricAttempt(request, source.thumbprint, deps.rt.env, deps.signal)
      : () =>
          deps.rt.fetch(request.url, {
            method: request.method,
            headers: request.headers,
            ...(request.body === undefined ? {} : { body: request.body }),
            signal: deps.signal,
          });
  let response: Response;
  try {
    // IMDS keeps azidentity's own retry policy (it answers 404/410 while a VM boots).
    response = await withRetries(deps, request, attempt, source.kind === "imds" ? IMDS_RETRY : DEFAULT_RETRY);
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    // A wrong certificate thumbprint is already worded; anything else is a network failure.
    throw err instanceof KubeloginError ? err : unreachable(request.url, source, err);
  }
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/**
 * Azure Arc answers the first request with 401 and `WWW-Authenticate: Basic realm=<key file>`;
 * only a local administrator can read that file, which proves the caller runs on the machine.
 */
async function answerArcChallenge(request: MsiRequest, challenge: MsiResponse, source: MsiSource, settings: MsiSettings, deps: LoginDeps): Promise<MsiResponse> {
  const header = challenge.headers.get("www-authenticate");
  if (!header) throw new AuthenticationError(messages.arcChallenge);
  const [, keyPath] = /^Basic realm=(.+)$/.exec(header) ?? [];
  if (!keyPath) throw new AuthenticationError(messages.arcBadChallenge);
  const { readFile, stat } = await import("node:fs/promises");
  // The endpoint names the file, so only a .key file directly in the agent's directory is read:
  // anything else would let whoever answers on IDENTITY_ENDPOINT have another file sent to it.
  const keyDir = settings.arcKeyDir ?? arcKeyDirectory(deps.rt.env);
  if (dirname(resolvePath(keyPath)) !== resolvePath(keyDir) || !keyPath.endsWith(".key")) {
    throw new AuthenticationError(`${messages.arcKeyFile}: ${keyPath} is not a .key file in ${keyDir}`);
  }
  const info = await stat(keyPath).catch((err: unknown) => {
    throw new AuthenticationError(`${messages.arcKeyFile}: ${(err as Error).message}`, { cause: err });
  });
  if (info.size > ARC_MAX_KEY_BYTES) throw new AuthenticationError(`${messages.arcKeyFile}: ${keyPath} is larger than ${ARC_MAX_KEY_BYTES} bytes`);
  const key = (await readFile(keyPath, "utf8")).trim();
  deps.log.addSecrets([key]);
  return send({ ...request, headers: { ...request.headers, Authorization: `Basic ${key}` } }, source, deps);
}

/** azidentity's arcKeyDirectory: where the Azure Connected Machine agent writes its keys. */
function arcKeyDirectory(env: Env): string {
  if (process.platform === "linux") return "/var/opt/azcmagent/tokens";
  if (process.platform === "win32") {
    if (!env.ProgramData) throw new AuthenticationError(`${messages.arcKeyFile}: environment variable ProgramData has no value`);
    return join(env.ProgramData, "AzureConnectedMachineAgent", "Tokens");
  }
  throw new AuthenticationError(`${messages.arcKeyFile}: Azure Arc has no key directory on ${process.platform}`);
}

/** Statuses whose Response must have no body (the constructor throws otherwise). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * One request to Service Fabric's token service, answered as a fetch Response so withRetries can
 * repeat it. The service has a self-signed certificate whose SHA-1 thumbprint the cluster publishes
 * in IDENTITY_SERVER_THUMBPRINT; fetch cannot pin a certificate, so this opens the TLS connection
 * itself, accepts exactly that certificate before any byte of the request (and its Secret header)
 * leaves, and sends the request over node:https on that connection. HTTPS_PROXY / NO_PROXY apply
 * as to every other request (azidentity sends this one through azcore's pipeline, whose transport
 * reads them): through a proxy the TLS session runs inside its CONNECT tunnel, so the pin still
 * holds end to end.
 */
async function serviceFabricAttempt(request: MsiRequest, thumbprint: string, env: Env, signal: AbortSignal): Promise<Response> {
  const url = new URL(request.url);
  const proxy = proxyFor(url, env);
  const { request: httpsRequest } = await import("node:https");
  try {
    // Nothing may be awaited between getting the socket and handing it to the request, which
    // listens for its errors from then on.
    const socket = await pinnedTlsSocket(url, thumbprint, proxy, signal);
    return await new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(url, { method: request.method, headers: request.headers, createConnection: () => socket, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const status = res.statusCode!;
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
          resolve(new Response(NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks), { status, headers }));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(request.body);
    });
  } catch (err) {
    // So the error can say the proxy was in the way (its origin only, never its credentials), as proxyAwareFetch does.
    if (proxy !== undefined && !(err instanceof KubeloginError) && err !== null && typeof err === "object") Object.assign(err, { viaProxy: new URL(proxy).origin });
    throw err;
  }
}

/** A TLS connection to the token service (inside the proxy's tunnel, if any) that presented the pinned certificate. */
async function pinnedTlsSocket(url: URL, thumbprint: string, proxy: string | undefined, signal: AbortSignal): Promise<import("node:tls").TLSSocket> {
  const { connect } = await import("node:tls");
  const { isIP } = await import("node:net");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 443);
  const tunnel = proxy === undefined ? undefined : await connectTunnel(new URL(proxy), host, port, signal);
  const expected = thumbprint.replace(/[^0-9a-f]/gi, "").toUpperCase();
  return new Promise((resolve, reject) => {
    const socket = connect({ ...(tunnel ? { socket: tunnel } : { host, port }), ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: false });
    const settle = (err?: unknown): void => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", settle);
      if (err === undefined) return resolve(socket);
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => settle(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", settle);
    socket.once("secureConnect", () => {
      const presented = socket.getPeerCertificate().fingerprint?.replace(/:/g, "").toUpperCase();
      if (presented === expected) return settle();
      settle(
        new NetworkError(`the Service Fabric token service at ${url.origin} presented certificate ${presented ?? "none"}, not IDENTITY_SERVER_THUMBPRINT ${expected}`, {
          hint: "nothing was sent to it; check IDENTITY_SERVER_THUMBPRINT (the SHA-1 thumbprint of the cluster's token service certificate), and if a proxy inspects TLS, list the host in NO_PROXY",
        }),
      );
    });
  });
}

/** An HTTP CONNECT tunnel through the proxy to host:port, as Go's transport opens one for an https URL. */
async function connectTunnel(proxy: URL, host: string, port: number, signal: AbortSignal): Promise<import("node:net").Socket> {
  const { request } = proxy.protocol === "https:" ? await import("node:https") : await import("node:http");
  const authority = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.username !== "") {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers["proxy-authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: proxy.hostname.replace(/^\[|\]$/g, ""), port: proxy.port || (proxy.protocol === "https:" ? 443 : 80), method: "CONNECT", path: authority, headers, signal });
    req.once("connect", (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`the proxy answered ${res.statusCode ?? "nothing"} to CONNECT ${authority}`));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once("error", reject);
    req.end();
  });
}

function parseResponse(response: MsiResponse, source: MsiSource, id: ManagedId, deps: LoginDeps): AccessToken {
  if (response.status === 200 || response.status === 201) {
    let body: { access_token?: unknown; expires_on?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(response.text) as typeof body;
    } catch {
      throw new AuthenticationError(`${messages.authenticationFailed}. The ${source.kind} endpoint answered ${response.status} with a body that is not JSON`);
    }
    if (typeof body.access_token !== "string" || body.access_token === "") {
      throw new AuthenticationError(`${messages.authenticationFailed}. The response has no access_token`);
    }
    return { token: body.access_token, expiresOn: expiryOf(body, deps.rt.clock.now()) };
  }
  const failure = errorBody(response.text);
  // The endpoint relayed Entra's refusal (IMDS's 400 for a resource Entra does not know): the
  // identity itself is fine, so Entra's code, its words and its ids are what helps.
  const aadsts = failure.description ? extractAadsts(failure.description) : undefined;
  if (aadsts) {
    const ids = extractEntraIds(failure.description ?? "", failure.correlationId);
    throw new AuthenticationError(`${messages.authenticationFailed}. ${failure.code ? `${failure.code}: ` : ""}${aadsts.description}`, {
      hint: hintFor(aadsts.code, {
        clientId: id.kind === "clientId" ? id.value : "of this managed identity",
        tenantId: /in the tenant named (.+?)\. /.exec(failure.description ?? "")?.[1] ?? "of this managed identity",
        provenance: deps.provenance,
      }),
      traceIds: { traceId: ids.traceId ?? failure.traceId, correlationId: ids.correlationId },
    });
  }
  if (source.kind === "imds" && response.status === 400) {
    if (id.kind !== "system") {
      throw new AuthenticationError(messages.identityNotAssigned, {
        hint: `assign the identity ${id.value} to this VM or pod, or check --client-id / --identity-resource-id (and AZURE_CLIENT_ID, which turns a system-assigned request into a user-assigned one)`,
      });
    }
    throw new AuthenticationError(`${messages.systemAssignedFailed}${response.text ? `. The endpoint responded with ${response.text}` : ""}`, {
      hint: "enable the system-assigned identity of this VM, or pass --client-id of a user-assigned one",
    });
  }
  const detail = [failure.code, failure.description]
    .filter((part) => part)
    .join(": ")
    .replace(/\s*[\r\n]+\s*/g, " ");
  throw new AuthenticationError(`${messages.authenticationFailed}. The ${source.kind} endpoint answered ${response.status}${detail ? `: ${detail}` : ""}`, {
    traceIds: { traceId: failure.traceId, correlationId: failure.correlationId },
  });
}

interface ErrorBody {
  readonly code?: string | undefined;
  readonly description?: string | undefined;
  readonly traceId?: string | undefined;
  readonly correlationId?: string | undefined;
}

/**
 * The error bodies of the identity endpoints: OAuth's { error, error_description, trace_id,
 * correlation_id } (IMDS, Arc, Cloud Shell, Azure ML, and Entra's own relayed through them), App
 * Service's { statusCode, message, correlationId }, Service Fabric's { error: { code, message,
 * correlationId } }. Anything else is shown as text, on one line.
 */
function errorBody(text: string): ErrorBody {
  const oneLine = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value.replace(/\s*[\r\n]+\s*/g, " ") : undefined);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: shown as text below.
  }
  if (typeof parsed !== "object" || parsed === null) return { description: oneLine(text.slice(0, 200)) };
  const body = parsed as Record<string, unknown>;
  const nested = typeof body.error === "object" && body.error !== null ? (body.error as Record<string, unknown>) : undefined;
  if (nested) return { code: oneLine(nested.code), description: oneLine(nested.message), correlationId: oneLine(nested.correlationId) };
  return {
    code: oneLine(body.error),
    // Kept raw: the AADSTS parser stops at the \r\n before Entra's trace and correlation ids.
    description: typeof body.error_description === "string" && body.error_description !== "" ? body.error_description : oneLine(body.message),
    traceId: oneLine(body.trace_id),
    correlationId: oneLine(body.correlation_id) ?? oneLine(body.correlationId),
  };
}

/**
 * expires_on is Unix seconds, as a number or a string; some App Service versions send a date
 * ("1/2/2006 3:04:05 PM +00:00"). expires_in is the last resort.
 */
export function expiryOf(body: { expires_on?: unknown; expires_in?: unknown }, now: number): number {
  const on = body.expires_on;
  if (typeof on === "number" || (typeof on === "string" && /^\d+$/.test(on))) return Number(on) * 1000;
  if (typeof on === "string") {
    const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?: ([AP]M))? \+00:00$/.exec(on);
    if (match) {
      const [, month, day, year, hour, minute, second, half] = match;
      let h = Number(hour);
      if (half === "PM" && h < 12) h += 12;
      if (half === "AM" && h === 12) h = 0;
      return Date.UTC(Number(year), Number(month) - 1, Number(day), h, Number(minute), Number(second));
    }
  }
  const inSeconds = Number(body.expires_in);
  if (body.expires_in !== undefined && Number.isFinite(inSeconds)) return now + inSeconds * 1000;
  throw new AuthenticationError(`${messages.authenticationFailed}. unexpected expires_on value: ${String(on)}`);
}

function unreachable(url: string, source: MsiSource, err: unknown): NetworkError {
  return networkErrorFor(url, err, {
    service: source.kind === "imds" ? "IMDS" : `the ${source.kind} managed identity endpoint`,
    hint:
      source.kind === "imds"
        ? "--login msi needs an Azure VM, scale set, AKS node or container with a managed identity (or set AZURE_POD_IDENTITY_AUTHORITY_HOST)"
        : "check the managed identity variables (IDENTITY_ENDPOINT, IDENTITY_HEADER, MSI_ENDPOINT) this host sets",
  });
}

/** The strategy with its settings; tests name their own Azure Arc key directory. */
export function managedIdentity(settings: MsiSettings = {}): LoginStrategy {
  return { mode: "msi", plan: (o, context) => plan(o, context, settings) };
}

export const msi: LoginStrategy = managedIdentity();
