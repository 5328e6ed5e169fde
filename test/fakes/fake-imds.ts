// Managed identity endpoints as a VM and an App Service see them: IMDS
// (GET /metadata/identity/oauth2/token, header `Metadata: true`, reached through
// AZURE_POD_IDENTITY_AUTHORITY_HOST so nothing ever calls 169.254.169.254) and the App Service /
// Functions endpoint (GET /msi/token, header `X-IDENTITY-HEADER`, reached through
// IDENTITY_ENDPOINT + IDENTITY_HEADER). The other plain-HTTP sources azidentity knows are here too:
// Azure Arc's agent (IDENTITY_ENDPOINT + IMDS_ENDPOINT; a 401 challenge naming a key file it
// writes, then the request again with that key), Cloud Shell (MSI_ENDPOINT; a form POST) and
// Azure ML (MSI_ENDPOINT + MSI_SECRET). Tokens come from fake Entra (or any issuer), as the real
// endpoints relay Entra's tokens. Every request is recorded.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { APP_SERVICE_400_UNASSIGNED_IDENTITY, IMDS_400_AADSTS500011 } from "../fixtures/recorded-responses.js";
import { startHttpFake, type HttpFake, type HttpReply, type HttpRequestRecord } from "./http-fake.js";

export interface ManagedIdentity {
  clientId: string;
  /** ARM resource id of a user-assigned identity; absent for the system-assigned one. */
  resourceId?: string;
}

export interface FakeImdsOptions {
  /** The VM's system-assigned identity, if it has one. */
  systemAssigned?: ManagedIdentity;
  userAssigned?: ManagedIdentity[];
  issue(clientId: string, resource: string): { accessToken: string; expiresOn: number };
  /** The secret App Service puts in IDENTITY_HEADER. */
  identityHeader?: string;
  /** Where the Azure Arc agent writes the key each challenge names (its /var/opt/azcmagent/tokens). */
  arcKeyDir?: string;
  /** The secret Azure ML puts in MSI_SECRET. */
  msiSecret?: string;
  /**
   * The resources Entra knows; IMDS relays Entra's recorded AADSTS500011 refusal for any other
   * (a wrong --server-id). Every resource is known when absent.
   */
  knownResources?: string[];
}

export interface FakeImds extends HttpFake {
  /** AZURE_POD_IDENTITY_AUTHORITY_HOST for IMDS. */
  imdsHost: string;
  /** IDENTITY_ENDPOINT for App Service. */
  appServiceEndpoint: string;
  identityHeader: string;
  imdsRequests(): HttpRequestRecord[];
  appServiceRequests(): HttpRequestRecord[];
  /** The next `count` IMDS token requests get this answer (IMDS's 429/5xx while it warms up). */
  failNext(status: number, count?: number): void;
  /** IDENTITY_ENDPOINT for Azure Arc (with IMDS_ENDPOINT set to anything). */
  arcEndpoint: string;
  arcRequests(): HttpRequestRecord[];
  /**
   * The next Arc challenge names this file instead of a new one in arcKeyDir (a misbehaving or
   * hostile endpoint); the fake writes nothing there. Once.
   */
  nextArcRealm(path: string): void;
  /** MSI_ENDPOINT for Cloud Shell and Azure ML, and the MSI_SECRET Azure ML checks. */
  cloudShellEndpoint: string;
  cloudShellRequests(): HttpRequestRecord[];
  azureMlEndpoint: string;
  azureMlRequests(): HttpRequestRecord[];
  msiSecret: string;
}

export const IMDS_PATH = "/metadata/identity/oauth2/token";
export const APP_SERVICE_PATH = "/msi/token";
export const ARC_PATH = "/azcmagent/metadata/identity/oauth2/token";
export const CLOUD_SHELL_PATH = "/cloudshell/oauth2/token";
export const AZURE_ML_PATH = "/aml/msi/token";

export async function startFakeImds(options: FakeImdsOptions): Promise<FakeImds> {
  const identityHeader = options.identityHeader ?? "fake-identity-header-value";
  const msiSecret = options.msiSecret ?? "fake-azure-ml-secret";
  /** Keys handed out in Arc challenges and not yet used. */
  const arcKeys = new Set<string>();
  let arcRealm: string | undefined;
  const all = [...(options.systemAssigned ? [options.systemAssigned] : []), ...(options.userAssigned ?? [])];
  let failures: { status: number; left: number } | undefined;

  function find(query: Record<string, string>, resourceIdParam: string): ManagedIdentity | undefined {
    if (query.client_id !== undefined) return all.find((id) => id.clientId === query.client_id);
    const resourceId = query[resourceIdParam];
    if (resourceId !== undefined) return (options.userAssigned ?? []).find((id) => id.resourceId?.toLowerCase() === resourceId.toLowerCase());
    return options.systemAssigned;
  }

  function tokenReply(identity: ManagedIdentity, resource: string, expiresOnAsString: boolean): HttpReply {
    const { accessToken, expiresOn } = options.issue(identity.clientId, resource);
    const now = Math.floor(Date.now() / 1000);
    return {
      status: 200,
      body: {
        access_token: accessToken,
        client_id: identity.clientId,
        // IMDS sends these as strings; App Service 2019-08-01 sends expires_on as a number.
        expires_in: String(expiresOn - now),
        expires_on: expiresOnAsString ? String(expiresOn) : expiresOn,
        ext_expires_in: String(expiresOn - now),
        not_before: String(now),
        resource,
        token_type: "Bearer",
      },
    };
  }

  const fake = await startHttpFake((request) => {
    if (request.path === IMDS_PATH) {
      if (failures && failures.left > 0) {
        failures.left--;
        return { status: failures.status, body: { error: "temporarily_unavailable", error_description: "IMDS is busy" } };
      }
      if (request.method !== "GET") return { status: 405, body: { error: "invalid_request", error_description: "Only GET" } };
      if (request.headers.metadata !== "true") return { status: 400, body: { error: "invalid_request", error_description: "Required metadata header not specified" } };
      if (request.query["api-version"] !== "2018-02-01" || !request.query.resource) {
        return { status: 400, body: { error: "invalid_request", error_description: "Required query variable 'resource' or 'api-version' is missing or invalid" } };
      }
      const identity = find(request.query, "msi_res_id");
      if (identity === undefined) return { status: 400, body: { error: "invalid_request", error_description: "Identity not found" } };
      if (options.knownResources && !options.knownResources.includes(request.query.resource)) return IMDS_400_AADSTS500011;
      return tokenReply(identity, request.query.resource, true);
    }
    if (request.path === APP_SERVICE_PATH) {
      if (request.headers["x-identity-header"] !== identityHeader) return { status: 401, body: { statusCode: 401, message: "Unauthorized: X-IDENTITY-HEADER is missing or wrong" } };
      if (request.query["api-version"] !== "2019-08-01" || !request.query.resource) return { status: 400, body: { statusCode: 400, message: "api-version and resource are required" } };
      const identity = find(request.query, "mi_res_id");
      if (identity === undefined) return APP_SERVICE_400_UNASSIGNED_IDENTITY;
      const reply = tokenReply(identity, request.query.resource, false);
      return reply;
    }
    if (request.path === ARC_PATH) {
      if (request.headers.metadata !== "true") return { status: 400, body: { error: "invalid_request", error_description: "Required metadata header not specified" } };
      if (request.query["api-version"] !== "2019-11-01" || !request.query.resource) return { status: 400, body: { error: "invalid_request", error_description: "api-version and resource are required" } };
      const authorization = request.headers.authorization;
      const presented = typeof authorization === "string" ? /^Basic (.+)$/.exec(authorization)?.[1] : undefined;
      if (presented !== undefined && arcKeys.delete(presented) && options.systemAssigned) return tokenReply(options.systemAssigned, request.query.resource, true);
      // The challenge: a fresh key in a file only a local administrator may read, named in the realm.
      let realm = arcRealm;
      arcRealm = undefined;
      if (realm === undefined) {
        if (!options.arcKeyDir) throw new Error("fake-imds: Azure Arc needs arcKeyDir");
        const key = randomBytes(24).toString("base64url");
        realm = join(options.arcKeyDir, `${randomBytes(8).toString("hex")}.key`);
        writeFileSync(realm, key, { mode: 0o600 });
        arcKeys.add(key);
      }
      return { status: 401, headers: { "WWW-Authenticate": `Basic realm=${realm}` }, body: { error: "unauthorized", error_description: "Authorization header missing or wrong" } };
    }
    if (request.path === CLOUD_SHELL_PATH) {
      if (request.method !== "POST" || request.headers.metadata !== "true") return { status: 400, body: { error: "invalid_request", error_description: "POST with Metadata: true" } };
      const resource = new URLSearchParams(request.body).get("resource");
      if (!resource || options.systemAssigned === undefined) return { status: 400, body: { error: "invalid_request", error_description: "resource is required" } };
      return tokenReply(options.systemAssigned, resource, true);
    }
    if (request.path === AZURE_ML_PATH) {
      if (request.headers.secret !== msiSecret) return { status: 401, body: { error: "unauthorized", error_description: "secret header missing or wrong" } };
      if (request.query["api-version"] !== "2017-09-01" || !request.query.resource) return { status: 400, body: { error: "invalid_request", error_description: "api-version and resource are required" } };
      const identity = all.find((id) => id.clientId === request.query.clientid);
      if (identity === undefined) return { status: 400, body: { error: "invalid_request", error_description: "No managed identity found for clientid" } };
      return tokenReply(identity, request.query.resource, true);
    }
    return { status: 404, body: { error: "not_found", error_description: `no route for ${request.method} ${request.path}` } };
  });
  return {
    ...fake,
    imdsHost: fake.origin,
    appServiceEndpoint: `${fake.origin}${APP_SERVICE_PATH}`,
    identityHeader,
    imdsRequests: () => fake.requests.filter((r) => r.path === IMDS_PATH),
    appServiceRequests: () => fake.requests.filter((r) => r.path === APP_SERVICE_PATH),
    failNext(status, count = 1) {
      failures = { status, left: count };
    },
    arcEndpoint: `${fake.origin}${ARC_PATH}`,
    arcRequests: () => fake.requests.filter((r) => r.path === ARC_PATH),
    nextArcRealm(path) {
      arcRealm = path;
    },
    cloudShellEndpoint: `${fake.origin}${CLOUD_SHELL_PATH}`,
    cloudShellRequests: () => fake.requests.filter((r) => r.path === CLOUD_SHELL_PATH),
    azureMlEndpoint: `${fake.origin}${AZURE_ML_PATH}`,
    azureMlRequests: () => fake.requests.filter((r) => r.path === AZURE_ML_PATH),
    msiSecret,
  };
}
