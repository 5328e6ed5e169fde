// Managed identity endpoints as a VM and an App Service see them: IMDS
// (GET /metadata/identity/oauth2/token, header `Metadata: true`, reached through
// AZURE_POD_IDENTITY_AUTHORITY_HOST so nothing ever calls 169.254.169.254) and the App Service /
// Functions endpoint (GET /msi/token, header `X-IDENTITY-HEADER`, reached through
// IDENTITY_ENDPOINT + IDENTITY_HEADER). Tokens come from fake Entra (or any issuer), as the real
// endpoints relay Entra's tokens. Every request is recorded.
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
}

export const IMDS_PATH = "/metadata/identity/oauth2/token";
export const APP_SERVICE_PATH = "/msi/token";

export async function startFakeImds(options: FakeImdsOptions): Promise<FakeImds> {
  const identityHeader = options.identityHeader ?? "fake-identity-header-value";
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
      return tokenReply(identity, request.query.resource, true);
    }
    if (request.path === APP_SERVICE_PATH) {
      if (request.headers["x-identity-header"] !== identityHeader) return { status: 401, body: { statusCode: 401, message: "Unauthorized: X-IDENTITY-HEADER is missing or wrong" } };
      if (request.query["api-version"] !== "2019-08-01" || !request.query.resource) return { status: 400, body: { statusCode: 400, message: "api-version and resource are required" } };
      const identity = find(request.query, "mi_res_id");
      if (identity === undefined) return { status: 400, body: { statusCode: 400, message: "No managed identity found for the specified identity" } };
      const reply = tokenReply(identity, request.query.resource, false);
      return reply;
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
  };
}
