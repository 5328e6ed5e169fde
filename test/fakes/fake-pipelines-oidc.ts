// Azure Pipelines' OIDC endpoint (SYSTEM_OIDCREQUESTURI): POST ?api-version=7.1&serviceConnectionId=<id>
// with `Authorization: Bearer <SYSTEM_ACCESSTOKEN>` and `X-TFS-FedAuthRedirect: Suppress`,
// answering {"oidcToken": "<jwt>"} whose subject names the service connection. Errors carry the
// x-msedge-ref / x-vss-e2eid ids Azure DevOps sends.
import { mintFederatedToken } from "./federated-token.js";
import { startHttpFake, type HttpFake } from "./http-fake.js";

export const PIPELINES_ORG_ID = "0f2d3b1a-7c1e-4c55-9d8e-2b7f4c1d9e01";
export const PIPELINES_ISSUER = `https://vstoken.dev.azure.com/${PIPELINES_ORG_ID}`;

export interface FakePipelinesOidc extends HttpFake {
  /** SYSTEM_OIDCREQUESTURI */
  requestUri: string;
  accessToken: string;
  serviceConnectionId: string;
  /** The subject Entra's federated credential must name. */
  subject: string;
}

export async function startFakePipelinesOidc(serviceConnectionId = "7e8f9a0b-1c2d-4e3f-8a9b-0c1d2e3f4a5b"): Promise<FakePipelinesOidc> {
  const accessToken = "pipelines-system-access-token-xyz";
  const subject = `sc://contoso/aks/${serviceConnectionId}`;
  const path = "/contoso/00000000-1111-2222-3333-444444444444/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken";
  const ids = { "x-msedge-ref": "Ref A: 0123456789ABCDEF Ref B: PIPE01 Ref C: 2026-01-01T00:00:00Z", "x-vss-e2eid": "e2e-0000-1111" };
  const fake = await startHttpFake((request) => {
    if (request.method !== "POST" || request.path !== path) return { status: 404, body: { message: "Not Found" }, headers: ids };
    if (request.headers.authorization !== `Bearer ${accessToken}` || request.headers["x-tfs-fedauthredirect"] !== "Suppress") {
      return { status: 401, body: "", headers: ids };
    }
    if (request.query["api-version"] !== "7.1") return { status: 400, body: { message: "api-version 7.1 expected" }, headers: ids };
    if (request.query.serviceConnectionId !== serviceConnectionId) return { status: 404, body: { message: "service connection not found" }, headers: ids };
    return { status: 200, body: { oidcToken: mintFederatedToken({ issuer: PIPELINES_ISSUER, subject }) } };
  });
  return { ...fake, requestUri: `${fake.origin}${path}`, accessToken, serviceConnectionId, subject };
}
