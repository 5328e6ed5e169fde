// The only code that knows MSAL's error shapes. Entra's answer keeps its AADSTS code in the
// message (people search for it); the hint says which flag or variable to fix.
import { AuthenticationError, KubeloginError, NetworkError } from "../../errors.js";
import type { Origin } from "../../options/origin.js";
import type { Provenance } from "../../options/resolve.js";

export interface MsalErrorContext {
  readonly authority: string;
  readonly clientId: string;
  readonly tenantId: string;
  readonly provenance: Provenance;
  /** "client secret" or "client certificate": what the app authenticated with. */
  readonly credentialKind: string;
  readonly fetchImpl: typeof fetch;
}

interface MsalLikeError {
  errorCode?: string;
  errorMessage?: string;
  message?: string;
}

/** " (set by AZURE_CLIENT_SECRET)" when the environment supplied the value, which is easy to miss. */
const from = (origin: Origin): string => (origin.kind === "env" ? ` (set by ${origin.name})` : "");

function hintFor(code: string, ctx: MsalErrorContext): string | undefined {
  const p = ctx.provenance;
  switch (code) {
    case "7000215":
      return `the ${ctx.credentialKind} was rejected; check --client-secret${from(p.clientSecret)}: it must be the secret's value, not its ID`;
    case "7000222":
      return `the client secret of app ${ctx.clientId} has expired; create a new one and update --client-secret${from(p.clientSecret)}`;
    case "700016":
      return `no app ${ctx.clientId} in tenant ${ctx.tenantId}; check --client-id${from(p.clientId)} and --tenant-id${from(p.tenantId)}`;
    case "90002":
    case "900023":
      return `tenant "${ctx.tenantId}" does not exist in this cloud; check --tenant-id${from(p.tenantId)} and --environment / --authority-host`;
    case "700027":
    case "700024":
    case "700023":
      return `the client certificate was rejected; check that --client-certificate${from(p.clientCertificate)} is the one registered for app ${ctx.clientId} and has not expired`;
    default:
      return undefined;
  }
}

/** `AADSTS7000215: Invalid client secret provided. …` without the trace/correlation trailer. */
export function extractAadsts(text: string): { code: string; description: string } | undefined {
  const match = /AADSTS(\d+):\s*(.*?)(?:\s+(?:Trace ID|Correlation ID|Timestamp):|\s+-\s+Correlation ID|\r|\n|$)/s.exec(text);
  if (!match) return undefined;
  return { code: match[1]!, description: `AADSTS${match[1]}: ${match[2]!.trim()}` };
}

export async function fromMsalError(err: unknown, ctx: MsalErrorContext): Promise<KubeloginError> {
  if (err instanceof KubeloginError) return err;
  const msal = (typeof err === "object" && err !== null ? err : {}) as MsalLikeError;
  const code = msal.errorCode ?? "";
  const text = msal.errorMessage || msal.message || String(err);
  const aadsts = extractAadsts(text);
  if (aadsts) {
    return new AuthenticationError(`${code ? `${code}: ` : ""}${aadsts.description}`, { hint: hintFor(aadsts.code, ctx), cause: err });
  }
  if (code === "network_error" || code === "endpoints_resolution_error" || code === "openid_config_error") {
    return diagnoseAuthority(ctx, err);
  }
  return new AuthenticationError(singleLine(text), { cause: err });
}

/**
 * MSAL hides why it could not reach the authority ("fetch failed", "Endpoints cannot be
 * resolved"). One extra request, made only on this failure path, recovers the real reason: the
 * identity provider's own error (unknown tenant) or the network error code.
 */
async function diagnoseAuthority(ctx: MsalErrorContext, original: unknown): Promise<KubeloginError> {
  const url = `${ctx.authority}/v2.0/.well-known/openid-configuration`;
  try {
    const response = await ctx.fetchImpl(url, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json().catch(() => ({}))) as { error?: string; error_description?: string };
    const aadsts = body.error_description ? extractAadsts(body.error_description) : undefined;
    if (aadsts) {
      return new AuthenticationError(`${body.error ?? "invalid_request"}: ${aadsts.description}`, { hint: hintFor(aadsts.code, ctx), cause: original });
    }
    return new AuthenticationError(`the authority ${ctx.authority} answered ${response.status} to ${url}`, {
      hint: "check --tenant-id, --environment and --authority-host",
      cause: original,
    });
  } catch (probeError) {
    const cause = (probeError as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (probeError as Error).message;
    const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(reason);
    return new NetworkError(`could not reach the identity provider at ${new URL(ctx.authority).origin}: ${reason}`, {
      hint: tls
        ? "the TLS certificate is not trusted; if a proxy inspects TLS, point NODE_EXTRA_CA_CERTS at its CA certificate"
        : "check --authority-host / --environment, the network and any proxy settings",
      cause: original,
    });
  }
}

function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
