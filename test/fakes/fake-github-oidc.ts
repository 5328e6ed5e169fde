// GitHub Actions' ID token endpoint: GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=…, authorised by
// `Authorization: bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>`, answering {"value": "<jwt>"} with the
// workflow as subject. Requests that lack the headers the Actions toolkit sends are refused.
import { mintFederatedToken } from "./federated-token.js";
import { startHttpFake, type HttpFake, type HttpReply } from "./http-fake.js";

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

export interface FakeGitHubOidc extends HttpFake {
  /** ACTIONS_ID_TOKEN_REQUEST_URL, with a query as GitHub's has. */
  requestUrl: string;
  requestToken: string;
  subject: string;
  /** The next request gets this answer (one shot). */
  failNext(reply: HttpReply): void;
}

export async function startFakeGitHubOidc(subject = "repo:contoso/aks-deploy:ref:refs/heads/main"): Promise<FakeGitHubOidc> {
  const requestToken = "gh-request-token-0123456789";
  let pending: HttpReply | undefined;
  const fake = await startHttpFake((request) => {
    if (pending) {
      const reply = pending;
      pending = undefined;
      return reply;
    }
    if (request.method !== "GET" || request.path !== "/_apis/distributedtask/hubs/build/plans/plan-1/jobs/job-1/idtoken") return { status: 404, body: "Not Found" };
    if (request.headers.authorization !== `bearer ${requestToken}`) return { status: 401, body: { message: "Unauthorized" } };
    if (request.headers.accept !== "application/json; api-version=2.0" || request.headers["content-type"] !== "application/json") {
      return { status: 400, body: { message: "unexpected Accept or Content-Type" } };
    }
    if (request.query["api-version"] !== "2.0") return { status: 400, body: { message: "the request URL lost its query" } };
    const audience = request.query.audience;
    if (!audience) return { status: 400, body: { message: "audience is required" } };
    return { status: 200, body: { count: 1, value: mintFederatedToken({ issuer: GITHUB_ISSUER, subject, audience }) } };
  });
  return {
    ...fake,
    requestUrl: `${fake.origin}/_apis/distributedtask/hubs/build/plans/plan-1/jobs/job-1/idtoken?api-version=2.0`,
    requestToken,
    subject,
    failNext(reply) {
      pending = reply;
    },
  };
}
