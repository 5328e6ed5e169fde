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
// source, done here through the run's fetch and signal.
import { KubeloginError, NetworkError, AuthenticationError } from "../errors.js";
import type { Env, GetTokenOptions } from "../options/resolve.js";
import { scopeFor } from "./authority.js";
import { DEFAULT_RETRY, IMDS_RETRY, networkErrorFor, retryingFetch } from "./http.js";
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
const ARC_KEY_DIR = "/var/opt/azcmagent/tokens/";
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

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
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
    acquire: (deps) => acquireToken(source, id, resource, deps),
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

async function acquireToken(source: MsiSource, id: ManagedId, resource: string, deps: LoginDeps): Promise<AccessToken> {
  deps.log.v(5, "using credential: ManagedIdentityCredential");
  deps.log.v(5, () => `managed identity source: ${source.kind} at ${source.endpoint}, identity: ${id.kind === "system" ? "system-assigned" : `${id.kind} ${id.value}`}`);
  const env = deps.rt.env;
  const secrets = [env.IDENTITY_HEADER, env.MSI_SECRET].filter((s): s is string => !!s);
  deps.log.addSecrets(secrets);
  try {
    const request = tokenRequest(source, id, resource, env);
    let response = await send(request, source, deps);
    if (source.kind === "azureArc" && response.status === 401) response = await answerArcChallenge(request, response, source, deps);
    return parseResponse(response, source, id, deps.rt.clock.now());
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    throw err instanceof KubeloginError ? err.wrap("failed to get token") : err;
  }
}

async function send(request: MsiRequest, source: MsiSource, deps: LoginDeps): Promise<MsiResponse> {
  if (source.kind === "serviceFabric") return serviceFabricRequest(request, source.thumbprint, deps.signal);
  let response: Response;
  try {
    // IMDS keeps azidentity's own retry policy (it answers 404/410 while a VM boots).
    response = await retryingFetch(deps, source.kind === "imds" ? IMDS_RETRY : DEFAULT_RETRY)(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: deps.signal,
    });
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    throw unreachable(request.url, source, err);
  }
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/**
 * Azure Arc answers the first request with 401 and `WWW-Authenticate: Basic realm=<key file>`;
 * only a local administrator can read that file, which proves the caller runs on the machine.
 */
async function answerArcChallenge(request: MsiRequest, challenge: MsiResponse, source: MsiSource, deps: LoginDeps): Promise<MsiResponse> {
  const header = challenge.headers.get("www-authenticate");
  if (!header) throw new AuthenticationError(messages.arcChallenge);
  const [, keyPath] = /^Basic realm=(.+)$/.exec(header) ?? [];
  if (!keyPath) throw new AuthenticationError(messages.arcBadChallenge);
  const { readFile, stat } = await import("node:fs/promises");
  const { resolve } = await import("node:path");
  if (process.platform === "linux" && (!resolve(keyPath).startsWith(ARC_KEY_DIR) || !keyPath.endsWith(".key"))) {
    throw new AuthenticationError(`${messages.arcKeyFile}: ${keyPath} is not a .key file in ${ARC_KEY_DIR}`);
  }
  const info = await stat(keyPath).catch((err: unknown) => {
    throw new AuthenticationError(`${messages.arcKeyFile}: ${(err as Error).message}`, { cause: err });
  });
  if (info.size > ARC_MAX_KEY_BYTES) throw new AuthenticationError(`${messages.arcKeyFile}: ${keyPath} is larger than ${ARC_MAX_KEY_BYTES} bytes`);
  const key = (await readFile(keyPath, "utf8")).trim();
  deps.log.addSecrets([key]);
  return send({ ...request, headers: { ...request.headers, Authorization: `Basic ${key}` } }, source, deps);
}

/**
 * Service Fabric's token service has a self-signed certificate; the cluster publishes its SHA-1
 * thumbprint in IDENTITY_SERVER_THUMBPRINT. fetch cannot pin a certificate, so this request uses
 * node:https and accepts exactly that certificate.
 */
async function serviceFabricRequest(request: MsiRequest, thumbprint: string, signal: AbortSignal): Promise<MsiResponse> {
  const { request: httpsRequest } = await import("node:https");
  const expected = thumbprint.replace(/[^0-9a-f]/gi, "").toUpperCase();
  return new Promise((resolve, reject) => {
    const req = httpsRequest(request.url, { method: request.method, headers: request.headers, rejectUnauthorized: false, signal }, (res) => {
      const presented = (res.socket as import("node:tls").TLSSocket).getPeerCertificate().fingerprint?.replace(/:/g, "").toUpperCase();
      if (presented !== expected) {
        res.destroy();
        reject(new NetworkError(`the Service Fabric token service presented certificate ${presented ?? "none"}, not IDENTITY_SERVER_THUMBPRINT ${expected}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === "string") headers.set(name, value);
        resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", (err) => reject(signal.aborted ? signal.reason : unreachable(request.url, { kind: "serviceFabric", endpoint: request.url, thumbprint }, err)));
    req.end();
  });
}

function parseResponse(response: MsiResponse, source: MsiSource, id: ManagedId, now: number): AccessToken {
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
    return { token: body.access_token, expiresOn: expiryOf(body, now) };
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
  const detail = errorDescription(response.text);
  throw new AuthenticationError(`${messages.authenticationFailed}. The ${source.kind} endpoint answered ${response.status}${detail ? `: ${detail}` : ""}`);
}

function errorDescription(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown; message?: unknown };
    const parts = [body.error, body.error_description ?? body.message].filter((p) => typeof p === "string" && p !== "");
    return parts.join(": ").replace(/\s*[\r\n]+\s*/g, " ");
  } catch {
    return text.slice(0, 200).replace(/\s*[\r\n]+\s*/g, " ");
  }
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

export const msi: LoginStrategy = { mode: "msi", plan };
