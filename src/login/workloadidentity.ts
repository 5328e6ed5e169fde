// Workload identity (compat spec §3.11): a federated token is the client assertion of a
// client-credentials request. Two variants, as upstream picks them: GitHub Actions when
// ACTIONS_ID_TOKEN_REQUEST_TOKEN and ACTIONS_ID_TOKEN_REQUEST_URL are both non-empty (read even
// with --disable-environment-override), else the token file (AKS projects one into the pod).
//
// Both go through our MSAL factory with an assertion callback rather than @azure/identity's
// WorkloadIdentityCredential: one MSAL (identity 4.13.1 bundles a second copy, msal-node 5), the
// run's fetch and abort signal on every request, and the same error translation as spn. The
// callback runs for every token request, so a rotated token file or a fresh GitHub ID token is
// always what is sent.
import { readFile } from "node:fs/promises";
import { AuthenticationError, KubeloginError, MissingOptionError, ValidationError } from "../errors.js";
import { strconvQuote } from "../options/go-quote.js";
import { envNamesFor, type GetTokenOptions } from "../options/resolve.js";
import { goPathError } from "../os-error.js";
import { checkTenantFormat, entraTarget, type EntraTarget } from "./authority.js";
import { networkErrorFor, retryingFetch, type HttpDeps } from "./http.js";
import type { AccessToken, LoginDeps, LoginPlan, LoginStrategy, PlanContext } from "./types.js";

const messages = {
  clientId: "client ID cannot be empty",
  tenantId: "tenant ID cannot be empty",
  tokenFile: "federated token file cannot be empty",
  githubCreate: "failed to create github actions credential",
  githubUrl: "unable to parse ACTIONS_ID_TOKEN_REQUEST_URL",
  githubStatus: "github actions ID token request failed with status code",
  githubEmpty: "github actions ID token is empty",
  githubUnreachable: "github actions ID token request failed",
} as const;

/** The audience Entra expects on a federated credential's token. */
export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

export type WorkloadVariant = { readonly kind: "github-actions"; readonly requestUrl: string; readonly requestToken: string } | { readonly kind: "token-file"; readonly path: string };

export function variantFor(o: Readonly<GetTokenOptions>, env: PlanContext["env"]): WorkloadVariant {
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "";
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL ?? "";
  if (requestToken !== "" && requestUrl !== "") return { kind: "github-actions", requestUrl, requestToken };
  return { kind: "token-file", path: o.federatedTokenFile };
}

function checkOptions(o: Readonly<GetTokenOptions>, variant: WorkloadVariant): void {
  if (o.clientId === "") throw new MissingOptionError(messages.clientId, "--client-id", envNamesFor("clientId", o));
  if (o.tenantId === "") throw new MissingOptionError(messages.tenantId, "--tenant-id", envNamesFor("tenantId", o));
  if (variant.kind === "token-file" && variant.path === "") {
    throw new MissingOptionError(messages.tokenFile, "--federated-token-file", envNamesFor("federatedTokenFile", o));
  }
  // A tenant is part of the request path: nothing but a tenant id or domain may go there.
  checkTenantFormat(o.tenantId, variant.kind === "token-file" ? "failed to create workload identity credential" : undefined);
}

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
  const variant = variantFor(o, context.env);
  checkOptions(o, variant);
  const target = entraTarget(o);
  // The file's path, not its content: the projected token rotates, the identity does not.
  const source = variant.kind === "token-file" ? [variant.path] : [];
  return {
    cacheKey: ["workloadidentity", variant.kind, target.authorityHost, target.tenantId, o.clientId, target.scope, ...source],
    inputs: [],
    warnings: target.warnings,
    acquire: (deps) => acquireToken(o, target, variant, deps),
  };
}

async function readTokenFile(path: string): Promise<string> {
  try {
    // A JWT has no whitespace; a trailing newline from `echo` or an editor would only be rejected.
    return (await readFile(path, "utf8")).trim();
  } catch (err) {
    throw new KubeloginError(goPathError(err, "open", path), {
      hint: "check --federated-token-file (or AZURE_FEDERATED_TOKEN_FILE): in AKS the workload identity webhook mounts it when the pod's service account is annotated",
      cause: err,
    });
  }
}

const REQUEST_URL_HINT = "ACTIONS_ID_TOKEN_REQUEST_URL is set by GitHub Actions when the job has `permissions: id-token: write`; do not set it by hand";

/**
 * The ID-token request's URL, with upstream's audience added. Go's url.Parse takes a value without
 * a scheme ("notaurl") as a relative URL, and upstream's request then fails on its scheme; those
 * failures, and Go's parse errors, are worded as Go's.
 */
function githubRequestUrl(raw: string): URL {
  if (raw.startsWith(":")) throw new KubeloginError(`${messages.githubUrl}: parse ${strconvQuote(raw)}: missing protocol scheme`, { hint: REQUEST_URL_HINT });
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(raw)?.[1]?.toLowerCase() ?? "";
  if (scheme !== "http" && scheme !== "https") {
    throw new KubeloginError(`Get ${strconvQuote(withAudience(raw))}: unsupported protocol scheme ${strconvQuote(scheme)}`, { hint: REQUEST_URL_HINT });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new KubeloginError(`${messages.githubUrl}: parse ${strconvQuote(raw)}: invalid URL`, { hint: REQUEST_URL_HINT, cause: err });
  }
  url.searchParams.set("audience", TOKEN_EXCHANGE_AUDIENCE);
  return url;
}

/** What Go's u.String() gives after q.Set("audience", …): the query re-encoded with its keys sorted. */
function withAudience(raw: string): string {
  const hashAt = raw.indexOf("#");
  const fragment = hashAt === -1 ? "" : raw.slice(hashAt);
  const beforeFragment = hashAt === -1 ? raw : raw.slice(0, hashAt);
  const queryAt = beforeFragment.indexOf("?");
  const params = new URLSearchParams(queryAt === -1 ? "" : beforeFragment.slice(queryAt + 1));
  params.set("audience", TOKEN_EXCHANGE_AUDIENCE);
  const query = [...params.keys()]
    .filter((key, index, keys) => keys.indexOf(key) === index)
    .sort()
    .flatMap((key) => params.getAll(key).map((value) => `${goQueryEscape(key)}=${goQueryEscape(value)}`))
    .join("&");
  return `${queryAt === -1 ? beforeFragment : beforeFragment.slice(0, queryAt)}?${query}${fragment}`;
}

/** Go's url.QueryEscape: only letters, digits and `-_.~` stay; a space is `+`. */
function goQueryEscape(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

const ACTIONS_HINT = "the runner must reach ACTIONS_ID_TOKEN_REQUEST_URL (HTTPS_PROXY / NO_PROXY if it needs a proxy)";

/** GET <ACTIONS_ID_TOKEN_REQUEST_URL>&audience=api://AzureADTokenExchange, as upstream asks it. */
export async function requestGitHubIdToken(variant: Extract<WorkloadVariant, { kind: "github-actions" }>, deps: HttpDeps): Promise<string> {
  const url = githubRequestUrl(variant.requestUrl);
  let response: Response;
  try {
    response = await retryingFetch(deps)(url, {
      method: "GET",
      headers: { Authorization: `bearer ${variant.requestToken}`, "Content-Type": "application/json", Accept: "application/json; api-version=2.0" },
      signal: deps.signal,
    });
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    throw networkErrorFor(url, err, { service: "the GitHub Actions ID token endpoint", hint: ACTIONS_HINT }).wrap(messages.githubUnreachable);
  }
  const body = await response.text();
  if (response.status !== 200) {
    throw new AuthenticationError(`${messages.githubStatus}: ${response.status}, response body: ${body}`, {
      hint: "the job needs `permissions: id-token: write`; the request token is valid only while the job runs",
    });
  }
  let value: unknown;
  try {
    value = (JSON.parse(body) as { value?: unknown }).value;
  } catch (err) {
    throw new AuthenticationError((err as Error).message, { cause: err });
  }
  if (typeof value !== "string" || value === "") throw new AuthenticationError(messages.githubEmpty);
  return value;
}

async function acquireToken(o: Readonly<GetTokenOptions>, target: EntraTarget, variant: WorkloadVariant, deps: LoginDeps): Promise<AccessToken> {
  deps.log.v(5, `using credential: ${variant.kind === "github-actions" ? "GithubActionsCredential" : "WorkloadIdentityCredential"}`);
  if (variant.kind === "github-actions") deps.log.addSecrets([variant.requestToken]);
  return acquireByAssertion(
    {
      target,
      clientId: o.clientId,
      createError: variant.kind === "github-actions" ? messages.githubCreate : "failed to create azidentity credential",
      fromTokenFile: variant.kind === "token-file",
    },
    () => (variant.kind === "github-actions" ? requestGitHubIdToken(variant, deps) : readTokenFile(variant.path)),
    deps,
  );
}

export interface AssertionClient {
  readonly target: EntraTarget;
  readonly clientId: string;
  /** Upstream's prefix for a client that cannot be built. */
  readonly createError: string;
  /** Set when the assertion comes from --federated-token-file, so Entra's refusals name it. */
  readonly fromTokenFile?: boolean;
}

/**
 * Client credentials with a federated token as the client assertion (workloadidentity and
 * azurepipelines). `assertion` runs for every token request MSAL makes.
 */
export async function acquireByAssertion(client: AssertionClient, assertion: () => Promise<string>, deps: LoginDeps): Promise<AccessToken> {
  const { target, clientId } = client;
  const [{ createConfidentialClient }, { fromMsalError, msalErrorContext }] = await Promise.all([import("./msal/client.js"), import("./msal/errors.js")]);
  let app;
  try {
    app = createConfidentialClient({ authorityHost: target.authorityHost, tenantId: target.tenantId, clientId }, { clientAssertion: assertion }, deps);
  } catch (err) {
    const translated = err instanceof KubeloginError ? err : new KubeloginError((err as Error).message, { cause: err });
    throw translated.wrap(client.createError);
  }
  deps.log.v(5, `getting token with scopes: [${target.scope}]`);
  try {
    const result = await app.acquireTokenByClientCredential({ scopes: [target.scope] });
    if (!result?.accessToken || !result.expiresOn) throw new KubeloginError("the identity provider returned no access token");
    return { token: result.accessToken, expiresOn: result.expiresOn.getTime() };
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    const translated = await fromMsalError(err, msalErrorContext(target, clientId, deps, client.fromTokenFile ? "federatedTokenFile" : undefined));
    throw translated.wrap("failed to get token");
  }
}

export const workloadidentity: LoginStrategy = { mode: "workloadidentity", plan };
