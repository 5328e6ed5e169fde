// Pure: parsed flags + environment → option values and where each came from (compat spec §1.2).
// Environment beats flags, as upstream does, unless --disable-environment-override; the
// provenance makes that visible at -v and in error hints.
import { join } from "node:path";
import type { FlagValue, ParsedFlags } from "./parse-flags.js";
import { formatGoDuration, parseGoDuration } from "./duration.js";
import {
  DEFAULT_ENVIRONMENT,
  DEFAULT_LOGIN,
  DEFAULT_TIMEOUT_MS,
  GET_TOKEN_OPTIONS,
  type EnvCondition,
  type GetTokenKey,
  type OptionSpec,
} from "./table.js";

export type Env = Readonly<Record<string, string | undefined>>;

export interface GetTokenOptions {
  loginMethod: string;
  clientId: string;
  clientSecret: string;
  clientCertificate: string;
  clientCertificatePassword: string;
  username: string;
  password: string;
  identityResourceId: string;
  serverId: string;
  federatedTokenFile: string;
  authorityHost: string;
  azurePipelinesServiceConnectionId: string;
  cacheDir: string;
  tenantId: string;
  subscription: string;
  environment: string;
  legacy: boolean;
  useAzureRmEnvVars: boolean;
  isPopTokenEnabled: boolean;
  timeout: number;
  popClaims: string;
  disableEnvironmentOverride: boolean;
  disableInstanceDiscovery: boolean;
  redirectUrl: string;
  loginHint: string;
  /** `<cache-dir>/auth.json`, computed before any environment variable is read (§1.2 step 1). */
  authRecordCacheFile: string;
}

/** "flag --client-id", "env AZURE_CLIENT_ID (overrode --client-id)", "default", "env KUBECACHEDIR". */
export type Provenance = Readonly<Record<GetTokenKey, string>>;

export interface ResolvedOptions {
  readonly options: Readonly<GetTokenOptions>;
  readonly provenance: Provenance;
}

export function defaultCacheDir(env: Env, homedir: string): { value: string; source: string } {
  const fromEnv = env.KUBECACHEDIR;
  if (fromEnv) return { value: fromEnv, source: "env KUBECACHEDIR" };
  return { value: `${homedir}/.kube/cache/kubelogin/`, source: "default" };
}

function defaultOf(key: GetTokenKey, env: Env, homedir: string): { value: FlagValue; source: string } {
  switch (key) {
    case "loginMethod":
      return { value: DEFAULT_LOGIN, source: "default" };
    case "environment":
      return { value: DEFAULT_ENVIRONMENT, source: "default" };
    case "timeout":
      return { value: DEFAULT_TIMEOUT_MS, source: "default" };
    case "cacheDir":
      return defaultCacheDir(env, homedir);
    default: {
      const spec = GET_TOKEN_OPTIONS.find((s) => s.key === key)!;
      return { value: spec.type === "bool" ? false : "", source: "default" };
    }
  }
}

function applies(when: EnvCondition, useAzureRm: boolean, mode: string): boolean {
  if (when === "always") return true;
  if (when === "standard") return !useAzureRm;
  if (when === "azurerm") return useAzureRm;
  return when === mode;
}

export function resolveOptions(flags: ParsedFlags, env: Env, homedir: string): ResolvedOptions {
  const values: Record<string, FlagValue> = {};
  const provenance: Record<string, string> = {};
  for (const spec of GET_TOKEN_OPTIONS as readonly OptionSpec<GetTokenKey>[]) {
    if (spec.aliasOf) continue;
    if (flags.changed.has(spec.key)) {
      values[spec.key] = flags.values[spec.key]!;
      provenance[spec.key] = `flag ${flags.setBy?.[spec.key] ?? spec.flag}`;
    } else {
      const fallback = defaultOf(spec.key, env, homedir);
      values[spec.key] = fallback.value;
      provenance[spec.key] = fallback.source;
    }
  }
  const authRecordCacheFile = joinPath(String(values.cacheDir), "auth.json");

  if (values.disableEnvironmentOverride !== true) {
    const useAzureRm = values.useAzureRmEnvVars === true;
    // --login is the table's first row, so the mode-specific rules below see the env-resolved mode (§1.2 step 6).
    for (const spec of GET_TOKEN_OPTIONS as readonly OptionSpec<GetTokenKey>[]) {
      if (!spec.env || spec.aliasOf) continue;
      const mode = String(values.loginMethod);
      const rules = spec.env.filter((rule) => applies(rule.when, useAzureRm, mode));
      const overriding = rules.filter((rule) => !rule.fallback).find((rule) => env[rule.name] !== undefined && acceptsEnv(spec, env[rule.name]!));
      if (overriding) {
        const overridden = flags.changed.has(spec.key) ? ` (overrode ${flags.setBy?.[spec.key] ?? spec.flag})` : "";
        values[spec.key] = spec.type === "duration" ? parseGoDuration(env[overriding.name]!) : env[overriding.name]!;
        provenance[spec.key] = `env ${overriding.name}${overridden}`;
      }
      for (const rule of rules.filter((r) => r.fallback)) {
        if (values[spec.key] === "" && env[rule.name]) {
          values[spec.key] = env[rule.name]!;
          provenance[spec.key] = `env ${rule.name}`;
        }
      }
    }
  }
  return {
    options: { ...(values as unknown as Omit<GetTokenOptions, "authRecordCacheFile">), authRecordCacheFile },
    provenance: provenance as Provenance,
  };
}

/** AZURE_CLI_TIMEOUT is applied only when it parses as a Go duration; any other variable always applies. */
function acceptsEnv(spec: OptionSpec, raw: string): boolean {
  if (spec.type !== "duration") return true;
  try {
    parseGoDuration(raw);
    return true;
  } catch {
    return false;
  }
}

/** Go's filepath.Join: cleans the result (`/tmp//foo/` → `/tmp/foo/auth.json`); an empty directory yields the bare name. */
function joinPath(dir: string, name: string): string {
  return join(dir, name);
}

/** The options as a -v log line: every value with its provenance, secrets masked, then the auth-record file. */
export function describeOptions(resolved: ResolvedOptions): string {
  const fields = (GET_TOKEN_OPTIONS as readonly OptionSpec<GetTokenKey>[])
    .filter((spec) => !spec.aliasOf)
    .map((spec) => {
      const value = resolved.options[spec.key];
      const shown = spec.secret ? (value ? "***" : '""') : spec.type === "duration" ? formatGoDuration(Number(value)) : JSON.stringify(value);
      return `${spec.flag.slice(2)}=${shown} [${resolved.provenance[spec.key]}]`;
    });
  return [...fields, `auth-record-file=${JSON.stringify(resolved.options.authRecordCacheFile)}`].join(" ");
}

/**
 * The environment variables that could have supplied `key` for this mode, for hints; none when
 * --disable-environment-override is set (they would be ignored).
 */
export function envNamesFor(
  key: GetTokenKey,
  options: Pick<GetTokenOptions, "loginMethod" | "useAzureRmEnvVars"> & { readonly disableEnvironmentOverride?: boolean },
): string[] {
  if (options.disableEnvironmentOverride === true) return [];
  const spec = (GET_TOKEN_OPTIONS as readonly OptionSpec<GetTokenKey>[]).find((s) => s.key === key && !s.aliasOf);
  const names = (spec?.env ?? []).filter((rule) => applies(rule.when, options.useAzureRmEnvVars, options.loginMethod)).map((rule) => rule.name);
  return [...new Set(names)];
}
