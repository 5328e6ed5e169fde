// The ADAL v1 flows behind --legacy (compat spec §3.4, §3.6; decision 9): the Entra ID v1
// endpoints (`resource=` instead of `scope=`), as go-autorest/adal sends them, through plain HTTPS
// requests on the run's fetch and signal. No MSAL: these flows have no account, no refresh token
// worth keeping and no metadata to discover. Unlike upstream, the token is cached like any other
// (the use case does that under the key the plan returns).
//
// This module is light on purpose: devicecode's and spn's plans may load it on the cached path.
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto";
import { AuthenticationError, KubeloginError, MissingOptionError, ValidationError } from "../errors.js";
import { envNamesFor, type GetTokenOptions } from "../options/resolve.js";
import { entraTarget, resourceFor } from "./authority.js";
import { networkErrorFor, retryingFetch } from "./http.js";
import { formatGoDuration } from "../options/duration.js";
import type { AccessToken, LoginDeps, LoginPlan, TimeoutWording } from "./types.js";

const messages = {
  clientId: "client ID cannot be empty",
  tenantId: "tenant ID cannot be empty",
  // Upstream's spelling, kept: scripts match on it.
  initiate: "initialing the device code authentication",
  prompt: "prompting the device code message",
  wait: "waiting for device code authentication to complete",
  deviceEndpoint: "autorest/adal/devicetoken: Error occurred while handling response from the Device Endpoint",
  deviceCodeEmpty: "autorest/adal/devicetoken: Error while retrieving device code: Device Code Empty",
  slowDownTooMuch: "autorest/adal/devicetoken: Error waiting for user to complete device flow. Server told us to slow_down too much",
  accessDenied: "autorest/adal/devicetoken: Error while retrieving OAuth token: Access Denied",
  codeExpired: "autorest/adal/devicetoken: Error while retrieving OAuth token: Code Expired",
  tokenEmpty: "autorest/adal/devicetoken: Error while retrieving OAuth token: Token Empty",
  refreshFailed: "adal: Refresh request failed",
  // adal's words for a request the context cancelled, around Go's "context deadline exceeded".
  codeRequestCancelled: (url: string) => `autorest/adal/devicetoken: Error occurred while sending request for Device Authorization Code: Post "${url}"`,
  pollCancelled: (url: string) => `autorest/adal/devicetoken: Error occurred while sending request with device code for a token: Post "${url}"`,
  notCompleted: (timeout: number) =>
    `the device-code sign-in was not completed within ${formatGoDuration(timeout)} (--timeout): open the page and enter the code sooner, or allow more time with --timeout (or AZURE_CLI_TIMEOUT)`,
  notJson: "the identity provider's answer is not JSON",
} as const;

const API_VERSION = "1.0";
// adal waits 5 s when Entra names no interval; so does Entra's own default.
const DEFAULT_POLL_INTERVAL_SECONDS = 5;
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// adal signs assertions valid for a day; ten minutes is plenty for one request and leaks less.
const ASSERTION_LIFETIME_SECONDS = 600;

/** Where the v1 requests go and what they ask for. */
export interface V1Target {
  /** With trailing slash, as --authority-host or the cloud table gives it. */
  readonly authorityHost: string;
  readonly tenantId: string;
  /** The v1 resource: the server id without `/.default`. */
  readonly resource: string;
}

/** adal's NewOAuthConfig: `<tenant>/oauth2/<endpoint>?api-version=1.0`, resolved against the authority host. */
export function v1Endpoint(target: Pick<V1Target, "authorityHost" | "tenantId">, endpoint: "token" | "devicecode"): string {
  return new URL(`${target.tenantId}/oauth2/${endpoint}?api-version=${API_VERSION}`, target.authorityHost).toString();
}

/** Upstream's newADAL*Credential checks, in their order. */
export function checkLegacyOptions(o: Readonly<GetTokenOptions>): void {
  if (o.clientId === "") throw new MissingOptionError(messages.clientId, "--client-id", envNamesFor("clientId", o));
  if (o.tenantId === "") throw new MissingOptionError(messages.tenantId, "--tenant-id", envNamesFor("tenantId", o));
  // adal checks no tenant format: whatever it is goes into the request path, escaped, and Entra answers.
}

export function v1TargetFor(o: Readonly<GetTokenOptions>): V1Target & { readonly warnings: readonly string[] } {
  const target = entraTarget(o);
  return { authorityHost: target.authorityHost, tenantId: target.tenantId, resource: resourceFor(o.serverId), warnings: target.warnings };
}

/**
 * `devicecode --legacy` as a whole plan (compat spec §3.4): devicecode.ts returns this when
 * `o.legacy` is set. Cheap: no request, no heavy import. The key has no account (v1 device code
 * keeps no record), so it is separate from every v2 sign-in.
 */
export function legacyDeviceCodePlan(o: Readonly<GetTokenOptions>): LoginPlan {
  checkLegacyOptions(o);
  const target = v1TargetFor(o);
  const progress: DeviceCodeProgress = { phase: "requesting code" };
  return {
    cacheKey: ["devicecode", "legacy", target.authorityHost, target.tenantId, o.clientId, target.resource],
    inputs: [],
    warnings: target.warnings,
    timeoutWording: () => deviceCodeTimeoutWording(target, progress, o.timeout),
    acquire: async (deps) => {
      deps.log.v(5, "using credential: ADALDeviceCodeCredential");
      try {
        return await acquireByDeviceCode(target, o.clientId, deps, progress);
      } catch (err) {
        if (deps.signal.aborted) throw deps.signal.reason;
        throw err instanceof KubeloginError ? err.wrap("failed to get token") : err;
      }
    },
  };
}

/** The device-code answer of the v1 endpoint; `expires_in` and `interval` come as strings there. */
interface V1DeviceCode {
  device_code?: string;
  user_code?: string;
  verification_url?: string;
  interval?: string | number;
  message?: string;
}

/** A v1 token answer: `expires_in` and `expires_on` are strings from Entra, numbers from ADFS. */
interface V1TokenAnswer {
  access_token?: string;
  expires_in?: string | number;
  expires_on?: string | number;
  error?: string;
  error_description?: string;
  correlation_id?: string;
}

/** Where a v1 device-code sign-in is: upstream's text for a timeout names the step it cut short. */
interface DeviceCodeProgress {
  phase: "requesting code" | "waiting" | "polling";
}

function deviceCodeTimeoutWording(target: V1Target, progress: DeviceCodeProgress, timeout: number): TimeoutWording {
  const failed = "failed to get token";
  switch (progress.phase) {
    case "requesting code":
      return { prefix: `${failed}: ${messages.initiate}: ${messages.codeRequestCancelled(v1Endpoint(target, "devicecode"))}` };
    case "waiting":
      return { prefix: `${failed}: ${messages.wait}`, hint: messages.notCompleted(timeout) };
    case "polling":
      return { prefix: `${failed}: ${messages.wait}: ${messages.pollCancelled(v1Endpoint(target, "token"))}`, hint: messages.notCompleted(timeout) };
  }
}

async function acquireByDeviceCode(target: V1Target, clientId: string, deps: LoginDeps, progress: DeviceCodeProgress): Promise<AccessToken> {
  let code: V1DeviceCode;
  try {
    code = await requestDeviceCode(target, clientId, deps);
  } catch (err) {
    throw asKubeloginError(err, deps).wrap(messages.initiate);
  }
  try {
    deps.interaction.showMessage(code.message ?? `To sign in, use a web browser to open the page ${code.verification_url} and enter the code ${code.user_code} to authenticate.`);
  } catch (err) {
    throw new KubeloginError(`${messages.prompt}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await pollForToken(target, clientId, code, deps, progress);
  } catch (err) {
    throw asKubeloginError(err, deps).wrap(messages.wait);
  }
}

async function requestDeviceCode(target: V1Target, clientId: string, deps: LoginDeps): Promise<V1DeviceCode> {
  const url = v1Endpoint(target, "devicecode");
  const { status, body } = await post(url, { client_id: clientId, resource: target.resource }, deps);
  if (status !== 200) throw await entraError(`${messages.deviceEndpoint}: Error HTTP status != 200`, body, deps, clientId, target);
  const code = body as V1DeviceCode | undefined;
  if (!code?.device_code) throw new AuthenticationError(messages.deviceCodeEmpty);
  return code;
}

/**
 * adal's WaitForUserCompletion: poll every `interval` seconds while Entra says
 * authorization_pending; slow_down doubles the wait, and more than three intervals ends it.
 * --timeout bounds the whole wait through the signal.
 */
async function pollForToken(target: V1Target, clientId: string, code: V1DeviceCode, deps: LoginDeps, progress: DeviceCodeProgress): Promise<AccessToken> {
  const url = v1Endpoint(target, "token");
  const intervalMs = (Number(code.interval) > 0 ? Number(code.interval) : DEFAULT_POLL_INTERVAL_SECONDS) * 1000;
  let waitMs = intervalMs;
  for (;;) {
    const form = { client_id: clientId, code: code.device_code!, grant_type: "device_code", resource: target.resource };
    progress.phase = "polling";
    const { status, body } = await post(url, form, deps);
    progress.phase = "waiting";
    const answer = body as V1TokenAnswer | undefined;
    if (answer === undefined) throw new AuthenticationError(messages.tokenEmpty);
    if (status === 200 && answer.error === undefined) return tokenFrom(answer, deps);
    switch (answer.error) {
      case "authorization_pending":
        break;
      case "slow_down":
        waitMs += waitMs;
        break;
      case "access_denied":
        throw new AuthenticationError(messages.accessDenied, { hint: "the sign-in was declined; run the command again to get a new code" });
      case "code_expired":
      case "expired_token":
        throw new AuthenticationError(messages.codeExpired, { hint: "the code was not entered in time; run the command again to get a new code" });
      default:
        throw await entraError(`autorest/adal/devicetoken: ${answer.error ?? `HTTP ${status}`}`, body, deps, clientId, target);
    }
    if (waitMs > intervalMs * 3) throw new AuthenticationError(messages.slowDownTooMuch);
    deps.log.v(5, `device code: ${answer.error}, asking again in ${waitMs / 1000}s`);
    await deps.rt.clock.sleep(waitMs, deps.signal);
  }
}

/** The v1 client-secret or certificate credential of `spn --legacy`. */
export type LegacyClientCredential =
  | { readonly clientSecret: string }
  | { readonly certificate: { readonly privateKeyPem: string; readonly certificatePem: string } };

/**
 * `spn --legacy` (compat spec §3.6): one client-credentials request to the v1 token endpoint. A
 * refusal reads as adal's own error, unwrapped as upstream returns it: the status, Entra's body as
 * it came and the endpoint.
 */
export async function acquireServicePrincipalToken(
  target: V1Target,
  clientId: string,
  credential: LegacyClientCredential,
  deps: LoginDeps,
): Promise<AccessToken> {
  const url = v1Endpoint(target, "token");
  const form: Record<string, string> = { client_id: clientId, resource: target.resource, grant_type: "client_credentials" };
  if ("clientSecret" in credential) {
    form.client_secret = credential.clientSecret;
  } else {
    form.client_assertion = clientAssertion(credential.certificate, clientId, url, deps.rt.clock.now());
    form.client_assertion_type = JWT_BEARER;
  }
  const { status, text } = await postForm(url, form, deps);
  const answer = status === 200 ? (parseAnswer(text, status, url) as V1TokenAnswer | undefined) : undefined;
  if (answer !== undefined && answer.error === undefined) return tokenFrom(answer, deps);
  const refused = await entraError(messages.refreshFailed, parseQuietly(text), deps, clientId, target, "clientSecret" in credential ? "clientSecret" : "clientCertificate");
  throw new AuthenticationError(`${messages.refreshFailed}. Status Code = '${status}'. Response body: ${text} Endpoint ${url}`, {
    hint: refused.hint,
    traceIds: refused.traceIds,
  });
}

/** adal's SignJwt: RS256, the certificate's SHA-1 thumbprint as x5t and the certificate as x5c. */
function clientAssertion(cert: { privateKeyPem: string; certificatePem: string }, clientId: string, audience: string, nowMs: number): string {
  const der = new X509Certificate(cert.certificatePem).raw;
  const header = { alg: "RS256", typ: "JWT", x5t: createHash("sha1").update(der).digest("base64url"), x5c: [der.toString("base64")] };
  const now = Math.floor(nowMs / 1000);
  const claims = { aud: audience, iss: clientId, sub: clientId, jti: randomBytes(20).toString("base64url"), nbf: now, exp: now + ASSERTION_LIFETIME_SECONDS };
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString("base64url");
  const signed = `${encode(header)}.${encode(claims)}`;
  const signature = sign("sha256", Buffer.from(signed), createPrivateKey(cert.privateKeyPem));
  return `${signed}.${signature.toString("base64url")}`;
}

/** expires_on (epoch seconds) when Entra sends it, else now + expires_in. */
function tokenFrom(answer: V1TokenAnswer, deps: LoginDeps): AccessToken {
  if (!answer.access_token) throw new AuthenticationError(messages.tokenEmpty);
  const expiresOn = Number(answer.expires_on);
  const expiresIn = Number(answer.expires_in);
  const expiresOnMs = Number.isFinite(expiresOn) && expiresOn > 0 ? expiresOn * 1000 : deps.rt.clock.now() + (Number.isFinite(expiresIn) ? expiresIn : 0) * 1000;
  return { token: answer.access_token, expiresOn: expiresOnMs };
}

async function post(url: string, form: Record<string, string>, deps: LoginDeps): Promise<{ status: number; body: unknown }> {
  const { status, text } = await postForm(url, form, deps);
  return { status, body: parseAnswer(text, status, url) };
}

async function postForm(url: string, form: Record<string, string>, deps: LoginDeps): Promise<{ status: number; text: string }> {
  let response: Response;
  try {
    response = await retryingFetch(deps)(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(form).toString(),
      signal: deps.signal,
    });
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    throw networkErrorFor(url, err);
  }
  return { status: response.status, text: await response.text() };
}

function parseAnswer(text: string, status: number, url: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new AuthenticationError(`${messages.notJson} (HTTP ${status} from ${new URL(url).host})`, {
      hint: "check --authority-host / --environment: the URL may not be an Entra ID endpoint, or a proxy answered instead",
    });
  }
}

/** A refusal's body, for its AADSTS code and ids; one that is not JSON has neither. */
function parseQuietly(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Entra's error body in the one-line form the v2 modes use (AADSTS code, hint, trace ids). */
async function entraError(
  prefix: string,
  body: unknown,
  deps: LoginDeps,
  clientId: string,
  target: V1Target,
  credential?: "clientSecret" | "clientCertificate",
): Promise<AuthenticationError> {
  const answer = (body ?? {}) as V1TokenAnswer;
  const description = answer.error_description ?? "";
  // Only on this failure path: the AADSTS table lives with the MSAL error translation.
  const { extractAadsts, extractEntraIds, hintFor } = await import("./msal/errors.js");
  const aadsts = extractAadsts(description);
  const ctx = { authority: `${target.authorityHost}${target.tenantId}`, clientId, tenantId: target.tenantId, provenance: deps.provenance, fetch: deps.rt.fetch, signal: deps.signal, ...(credential ? { credential } : {}) };
  const detail = aadsts ? `${answer.error ? `${answer.error}: ` : ""}${aadsts.description}` : (answer.error ?? "");
  return new AuthenticationError(detail ? `${prefix}: ${detail}` : prefix, {
    hint: aadsts ? hintFor(aadsts.code, ctx) : undefined,
    traceIds: extractEntraIds(description, answer.correlation_id),
  });
}

function asKubeloginError(err: unknown, deps: LoginDeps): KubeloginError {
  if (deps.signal.aborted) throw deps.signal.reason;
  return err instanceof KubeloginError ? err : new KubeloginError((err as Error).message ?? String(err), { cause: err });
}
