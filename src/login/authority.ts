// Cloud and scope selection (compat spec §3.1, §3.2; decision 8).
import { ValidationError } from "../errors.js";

export const PUBLIC_CLOUD = "https://login.microsoftonline.com/";
const CLOUDS: Readonly<Record<string, string>> = {
  AZURECLOUD: PUBLIC_CLOUD,
  AZUREPUBLIC: PUBLIC_CLOUD,
  AZUREPUBLICCLOUD: PUBLIC_CLOUD,
  AZUREUSGOVERNMENT: "https://login.microsoftonline.us/",
  AZUREUSGOVERNMENTCLOUD: "https://login.microsoftonline.us/",
  AZURECHINACLOUD: "https://login.chinacloudapi.cn/",
};
export const KNOWN_ENVIRONMENTS = ["AzurePublicCloud", "AzureUSGovernmentCloud", "AzureChinaCloud"] as const;

export interface AuthorityChoice {
  readonly host: string;
  /** Set when --environment named no cloud we know and the public cloud was used instead. */
  readonly warning?: string;
}

export function chooseAuthorityHost(authorityHost: string, environment: string): AuthorityChoice {
  if (authorityHost !== "") return { host: authorityHost };
  const host = CLOUDS[environment.toUpperCase()];
  if (host) return { host };
  return {
    host: PUBLIC_CLOUD,
    warning: `unknown --environment "${environment}"; using the public cloud. Known names: ${KNOWN_ENVIRONMENTS.join(", ")}`,
  };
}

/** Hosts MSAL knows the instance metadata of without asking. */
export function isWellKnownCloud(host: string): boolean {
  return Object.values(CLOUDS).includes(host);
}

/** Upstream GetScope: strip trailing slashes, append /.default unless present. */
export function scopeFor(serverId: string): string {
  const trimmed = serverId.replace(/\/+$/, "");
  return trimmed.endsWith("/.default") ? trimmed : `${trimmed}/.default`;
}

/** azidentity's tenant check: alphanumerics, `-` and `.` only, so a tenant can never change the request path. */
export function isValidTenantId(tenantId: string): boolean {
  return /^[0-9A-Za-z.-]+$/.test(tenantId);
}

export const INVALID_TENANT_MESSAGE =
  "invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names";

export const TENANT_HINT = "--tenant-id takes a tenant ID (a GUID) or a domain name such as contoso.onmicrosoft.com";

/**
 * azidentity's tenant check. Upstream meets it inside the credential's constructor, so the text
 * carries that constructor's prefix (`failed to create device code credential: invalid tenantID…`).
 * Upstream's PoP variants build no azidentity credential and have no prefix to give: a tenant
 * that could change the request path is refused there all the same.
 */
export function checkTenantFormat(tenantId: string, constructorPrefix: string | undefined, hint: string = TENANT_HINT): void {
  if (isValidTenantId(tenantId)) return;
  throw new ValidationError(constructorPrefix === undefined ? INVALID_TENANT_MESSAGE : `${constructorPrefix}: ${INVALID_TENANT_MESSAGE}`, { hint });
}

/** Where an Entra ID token request goes and what it asks for (compat spec §3.1, §3.2). */
export interface EntraTarget {
  /** With trailing slash: https://login.microsoftonline.com/ */
  readonly authorityHost: string;
  readonly tenantId: string;
  /** `<server-id>/.default` */
  readonly scope: string;
  readonly warnings: readonly string[];
}

export function entraTarget(o: { authorityHost: string; environment: string; tenantId: string; serverId: string }): EntraTarget {
  const choice = chooseAuthorityHost(o.authorityHost, o.environment);
  return { authorityHost: choice.host, tenantId: o.tenantId, scope: scopeFor(o.serverId), warnings: choice.warning ? [choice.warning] : [] };
}

/** The ADAL v1 resource for a server id: the scope without its `/.default` (first occurrence, as adal). */
export function resourceFor(serverId: string): string {
  return scopeFor(serverId).replace("/.default", "");
}
