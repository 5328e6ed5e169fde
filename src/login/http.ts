// Every request a login mode makes goes through here: transient faults (5xx, 429, a connection
// reset) are retried with exponential backoff and jitter, honouring Retry-After, and never past
// --timeout; a failure that remains is worded by networkErrorFor, naming the host and the way out.
// Light on purpose (no MSAL): adal-v1, msi and the CI token requests load it too.
import { NetworkError } from "../errors.js";
import type { LoginDeps } from "./types.js";

export interface RetryPolicy {
  /** Statuses worth asking again. */
  readonly statuses: ReadonlySet<number>;
  /** Requests in all, the first one included. */
  readonly maxAttempts: number;
  /** The wait before the first retry; doubled for each further one, then jittered. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Retry failures to connect as well as resets (IMDS: it may not listen yet while a VM boots). */
  readonly retryConnectFailures: boolean;
}

/** Entra ID, the CI token endpoints and the other managed identity sources. */
export const DEFAULT_RETRY: RetryPolicy = {
  statuses: new Set([408, 429, 500, 502, 503, 504]),
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  retryConnectFailures: false,
};

/** azidentity's IMDS policy: these statuses, five retries from 2 s, at most 60 s apart. */
export const IMDS_RETRY: RetryPolicy = {
  statuses: new Set([404, 408, 410, 429, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511]),
  maxAttempts: 6,
  baseDelayMs: 2_000,
  maxDelayMs: 60_000,
  retryConnectFailures: true,
};

export type HttpDeps = Pick<LoginDeps, "rt" | "log" | "signal" | "deadline">;

/** The failures of a connection that was made and then dropped: asking again usually works. */
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);
const CONNECT_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * A fetch with the run's retry policy. The body must be a string (every login request's is), so it
 * can be sent again.
 */
export function retryingFetch(deps: HttpDeps, policy: RetryPolicy = DEFAULT_RETRY, random: () => number = Math.random): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const send = (): Promise<Response> => deps.rt.fetch(input, { ...init, signal: init?.signal ?? deps.signal });
    return withRetries(deps, { method: init?.method ?? "GET", url }, send, policy, random);
  };
}

/**
 * The retry loop itself, around any request that answers with a Response (fetch, or Service
 * Fabric's certificate-pinned node:https request). `send` makes one attempt and honours
 * deps.signal. Sleeps go through the run's clock and signal; a retry whose wait would end after
 * the deadline is not made, and the last answer (or error) is returned as it came.
 */
export async function withRetries(
  deps: HttpDeps,
  target: { readonly method: string; readonly url: string | URL },
  send: () => Promise<Response>,
  policy: RetryPolicy = DEFAULT_RETRY,
  random: () => number = Math.random,
): Promise<Response> {
  const url = new URL(target.url);
  const where = `${target.method} ${url.origin}${url.pathname}`;
  for (let attempt = 1; ; attempt++) {
    let response: Response | undefined;
    let failure: unknown;
    try {
      response = await send();
    } catch (err) {
      if (deps.signal.aborted) throw deps.signal.reason;
      failure = err;
    }
    const reason = response ? await transientStatus(response, policy) : transientFailure(failure, policy);
    if (reason === undefined || attempt >= policy.maxAttempts) {
      if (response) return response;
      throw failure;
    }
    const backoff = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
    // Full jitter on the upper half, so many clients throttled together do not return together.
    const jittered = Math.round(backoff / 2 + random() * (backoff / 2));
    const asked = response ? retryAfterMs(response.headers.get("retry-after"), deps.rt.clock.now()) : undefined;
    const delay = asked ?? jittered;
    if (deps.rt.clock.now() + delay >= deps.deadline) {
      deps.log.v(1, `${where}: ${reason}; not retrying, --timeout would pass first`);
      if (response) return response;
      throw failure;
    }
    deps.log.v(1, `${where}: ${reason}; retrying in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 1} of ${policy.maxAttempts})`);
    // The answer is dropped: free its connection.
    await response?.body?.cancel().catch(() => undefined);
    await deps.rt.clock.sleep(delay, deps.signal);
  }
}

async function transientStatus(response: Response, policy: RetryPolicy): Promise<string | undefined> {
  if (!policy.statuses.has(response.status)) return undefined;
  // A 4xx carrying an AADSTS code is Entra's final word; 429 is throttling, whatever it carries.
  if (response.status < 500 && response.status !== 429 && /AADSTS\d+/.test(await response.clone().text().catch(() => ""))) return undefined;
  return `answered ${response.status}`;
}

function transientFailure(err: unknown, policy: RetryPolicy): string | undefined {
  const code = errorCode(err);
  if (code !== undefined && RESET_CODES.has(code)) return `connection reset (${code})`;
  if (policy.retryConnectFailures && (code === undefined || CONNECT_CODES.has(code))) return `could not connect${code ? ` (${code})` : ""}`;
  return undefined;
}

/** Retry-After in seconds or as an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its weekday and month; Date.parse alone would take "-1" for a year.
  const at = /[a-z]/i.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The first error code in a fetch failure's cause chain (fetch says only "fetch failed"). */
function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code !== "UND_ERR" && code !== "ABORT_ERR") return code;
  }
  return undefined;
}

function innermostMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (let e = (err as { cause?: unknown })?.cause, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) message = e.message;
  return message;
}

const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);
// Both are read: SSL_CERT_FILE as Go (and so kubectl) reads it, NODE_EXTRA_CA_CERTS as Node does.
const TRUST_CA = "point SSL_CERT_FILE or NODE_EXTRA_CA_CERTS at its CA certificate (a PEM file)";
const PROXY_HINT = "if this network needs a proxy, set HTTPS_PROXY (and NO_PROXY for hosts reached directly); if one is set, check it";

export interface NetworkErrorOptions {
  /** What was being reached: "the identity provider" unless said otherwise. */
  readonly service?: string;
  /** The way out when the cause is not TLS, DNS or a proxy (e.g. msi: "run on an Azure VM"). */
  readonly hint?: string;
}

/** A failed request as one sentence naming the host and the cause, with the way out for it. */
export function networkErrorFor(url: string | URL, err: unknown, options: NetworkErrorOptions = {}): NetworkError {
  const { host, hostname, origin } = new URL(url);
  const code = errorCode(err);
  const service = options.service ?? "the identity provider";
  const fallback = options.hint ?? `check --authority-host / --environment; ${PROXY_HINT}`;
  const message = innermostMessage(err);
  const viaProxy = (err as { viaProxy?: unknown })?.viaProxy;
  if (typeof viaProxy === "string") {
    // A TLS failure through a proxy is nearly always the proxy inspecting TLS.
    const tls = code !== undefined && (UNTRUSTED.has(code) || code.startsWith("CERT_") || code === "ERR_TLS_CERT_ALTNAME_INVALID");
    return new NetworkError(`could not reach ${service} at ${origin} through the proxy ${viaProxy}: ${code ?? message}`, {
      hint: tls
        ? `the proxy presents its own TLS certificate; ${TRUST_CA}`
        : `check the proxy in HTTPS_PROXY / HTTP_PROXY (address, credentials), or list ${hostname} in NO_PROXY to connect directly`,
      cause: err,
    });
  }
  // The message keeps the bare code (scripts match on it); the hint explains it and says what to do.
  const hint = ((): string => {
    if (code !== undefined && UNTRUSTED.has(code)) {
      return `${hostname}'s TLS certificate is not trusted; if a proxy or firewall inspects TLS, ${TRUST_CA}`;
    }
    if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
      return `${hostname}'s TLS certificate is outside its validity period; check this machine's clock; if a proxy inspects TLS, renew its certificate or point SSL_CERT_FILE or NODE_EXTRA_CA_CERTS at its current CA certificate`;
    }
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
      return `the TLS certificate presented is not issued for ${hostname}; check the host in --authority-host; if a proxy inspects TLS, ${TRUST_CA}; ${PROXY_HINT}`;
    }
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `${hostname} does not resolve; check the host in --authority-host / --environment; ${PROXY_HINT}`;
    if (code === "ECONNREFUSED") return `nothing accepts connections at ${host}; ${fallback}`;
    // undici's tunnel failures ("Proxy response (407) !== 200 when HTTP Tunneling").
    if (/proxy/i.test(message)) return "the proxy refused the request; check HTTPS_PROXY / HTTP_PROXY (address, credentials) and NO_PROXY";
    return fallback;
  })();
  return new NetworkError(`could not reach ${service} at ${origin}: ${code ?? message}`, { hint, cause: err });
}
