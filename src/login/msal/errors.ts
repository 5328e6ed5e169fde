// The only code that knows MSAL's error shapes. Entra's answer keeps its AADSTS code in the
// message (people search for it) and its trace and correlation ids (support asks for them); the
// hint says which flag or variable to fix, for the mode and credential actually in use.
import { AuthenticationError, KubeloginError, ValidationError, type EntraIds } from "../../errors.js";
import type { Origin } from "../../options/origin.js";
import type { Provenance } from "../../options/resolve.js";
import { networkErrorFor } from "../http.js";
import type { LoginDeps } from "../types.js";

/** The option that carried the credential the request authenticated with. */
export type CredentialOption = "clientSecret" | "clientCertificate" | "password" | "federatedTokenFile";

export interface MsalErrorContext {
  readonly authority: string;
  readonly clientId: string;
  readonly tenantId: string;
  readonly provenance: Provenance;
  readonly credential?: CredentialOption;
  readonly fetch: typeof fetch;
  readonly signal: AbortSignal;
}

/** The context every MSAL caller builds: where the request went, for whom, and with which credential. */
export function msalErrorContext(
  target: { readonly authorityHost: string; readonly tenantId: string },
  clientId: string,
  deps: Pick<LoginDeps, "provenance" | "rt" | "signal">,
  credential?: CredentialOption,
): MsalErrorContext {
  return {
    authority: `${target.authorityHost}${target.tenantId}`,
    clientId,
    tenantId: target.tenantId,
    provenance: deps.provenance,
    ...(credential ? { credential } : {}),
    fetch: deps.rt.fetch,
    signal: deps.signal,
  };
}

interface MsalLikeError {
  errorCode?: string;
  errorMessage?: string;
  message?: string;
  correlationId?: string;
}

const FLAGS: Readonly<Record<CredentialOption, string>> = {
  clientSecret: "--client-secret",
  clientCertificate: "--client-certificate",
  password: "--password",
  federatedTokenFile: "--federated-token-file",
};

/** " (set by AZURE_CLIENT_SECRET)" when the environment supplied the value, which is easy to miss. */
const from = (origin: Origin | undefined): string => (origin?.kind === "env" ? ` (set by ${origin.name})` : "");

function credentialFlag(ctx: HintContext): string {
  return ctx.credential ? `${FLAGS[ctx.credential]}${from(ctx.provenance[ctx.credential])}` : "the credential";
}

/** What a hint may name: the app, the tenant, where each option came from, the credential in use. */
export type HintContext = Pick<MsalErrorContext, "clientId" | "tenantId" | "provenance" | "credential">;

/** AADSTS code → what to do. Codes not listed get no hint rather than a wrong one. */
export function hintFor(code: string, ctx: HintContext): string | undefined {
  const p = ctx.provenance;
  switch (code) {
    case "7000215":
      return ctx.credential === "clientSecret"
        ? `the client secret was rejected; check ${credentialFlag(ctx)}: it must be the secret's value, not its ID`
        : `the client credential was rejected; check ${credentialFlag(ctx)}`;
    case "7000222":
      return `the client secret of app ${ctx.clientId} has expired; create a new one and update ${credentialFlag(ctx)}`;
    case "700016":
      return `no app ${ctx.clientId} in tenant ${ctx.tenantId}; check --client-id${from(p.clientId)} and --tenant-id${from(p.tenantId)}`;
    case "90002":
    case "900023":
      return `tenant "${ctx.tenantId}" does not exist in this cloud; check --tenant-id${from(p.tenantId)} and --environment / --authority-host`;
    case "700027":
    case "700023":
      return `the client certificate was rejected; check that ${credentialFlag(ctx)} is the one registered for app ${ctx.clientId} and has not expired`;
    case "700024":
      return ctx.credential === "federatedTokenFile"
        ? `the federated token has expired; check that ${credentialFlag(ctx)} is being refreshed`
        : "the signed client assertion is outside its valid time range; check this machine's clock";
    case "50126":
      return `the user name or password was rejected; check --username${from(p.username)} and ${credentialFlag(ctx)}`;
    case "50020":
      return `the signed-in account is not a member or guest of tenant ${ctx.tenantId}; sign in with an account of that tenant, have it invited as a guest, or check --tenant-id${from(p.tenantId)}`;
    case "50076":
    case "50079":
      return ctx.credential === "password"
        ? "this account needs multi-factor authentication, which --login ropc cannot do; use --login devicecode or interactive"
        : "this account needs multi-factor authentication; sign in again with --login devicecode or interactive and complete it";
    case "53003":
      return ctx.credential === "password"
        ? "a Conditional Access policy blocked this sign-in, which --login ropc cannot satisfy; use --login devicecode or interactive"
        : "a Conditional Access policy blocked this sign-in (device, location or app not allowed); ask the tenant's administrator which policy applies, with the trace id below";
    case "65001":
      return `app ${ctx.clientId} has not been granted consent in tenant ${ctx.tenantId}; an administrator must grant it`;
    case "500011":
    case "50001":
    case "650057":
      return `no resource (API) matches --server-id${from(p.serverId)} in tenant ${ctx.tenantId}; check it: for AKS with Entra ID it is 6dae42f8-4368-4678-94ff-3960e28e3630`;
    case "70043":
    case "700082":
    case "50173":
      return "the saved sign-in has expired or was revoked; sign in again (kubelogin remove-cache-dir clears it)";
    // Stryker disable next-line ConditionalExpression: without this case the function still returns undefined
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

export function extractEntraIds(text: string, correlationId?: string): EntraIds {
  const traceId = /Trace ID:\s*([0-9a-fA-F-]{8,})/.exec(text)?.[1];
  const fromText = /Correlation ID:\s*([0-9a-fA-F-]{8,})/.exec(text)?.[1];
  return { traceId, correlationId: fromText ?? (correlationId || undefined) };
}

export async function fromMsalError(err: unknown, ctx: MsalErrorContext): Promise<KubeloginError> {
  if (err instanceof KubeloginError) return err;
  const msal = (typeof err === "object" && err !== null ? err : {}) as MsalLikeError;
  const code = msal.errorCode ?? "";
  // msal-node puts a refused poll's `error` value here as Entra sent it, which need not be text.
  const text = String(msal.errorMessage || msal.message || err);
  const aadsts = extractAadsts(text);
  if (aadsts) {
    return new AuthenticationError(`${code ? `${code}: ` : ""}${aadsts.description}`, {
      hint: hintFor(aadsts.code, ctx),
      cause: err,
      traceIds: extractEntraIds(text, msal.correlationId),
    });
  }
  switch (code) {
    case "authority_uri_insecure":
      return new ValidationError(`authority host "${new URL(ctx.authority).origin}/" must use https`, {
        hint: "use an https:// URL in --authority-host",
        cause: err,
      });
    case "missing_tenant_id_error":
      return new ValidationError(`a service principal needs its own tenant, not "${ctx.tenantId}"`, {
        hint: `pass the directory (tenant) ID with --tenant-id${from(ctx.provenance.tenantId)}`,
        cause: err,
      });
    case "network_error":
    case "endpoints_resolution_error":
    case "openid_config_error":
      return diagnoseAuthority(ctx, err);
    default:
      return new AuthenticationError(singleLine(text), { cause: err });
  }
}

/**
 * MSAL hides why it could not reach the authority ("Endpoints cannot be resolved"). One extra
 * request, made only on this failure path, recovers the real reason: the identity provider's own
 * error (unknown tenant) or the network error.
 */
async function diagnoseAuthority(ctx: MsalErrorContext, original: unknown): Promise<KubeloginError> {
  const url = `${ctx.authority}/v2.0/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await ctx.fetch(url, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]) });
  } catch (probeError) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return networkErrorFor(url, probeError);
  }
  // Stryker disable next-line ArrowFunction,StringLiteral: any body that is not JSON is reported by status alike
  const raw = await response.text().catch(() => "");
  let body: { error?: string; error_description?: string; correlation_id?: string } = {};
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    // Not JSON: reported by status below.
  }
  const aadsts = body.error_description ? extractAadsts(body.error_description) : undefined;
  if (aadsts) {
    return new AuthenticationError(`${body.error ?? "invalid_request"}: ${aadsts.description}`, {
      hint: hintFor(aadsts.code, ctx),
      cause: original,
      // Stryker disable next-line StringLiteral: never used, a description is there when aadsts is
      traceIds: extractEntraIds(body.error_description ?? "", body.correlation_id),
    });
  }
  return new AuthenticationError(`the authority ${ctx.authority} answered ${response.status} to ${url}`, {
    hint: "check --tenant-id, --environment and --authority-host",
    cause: original,
  });
}

function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
