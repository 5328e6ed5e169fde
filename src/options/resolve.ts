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
  type GetTokenValues,
  type OptionSpec,
  type OptionType,
} from "./table.js";
import { DEFAULT_ORIGIN, describeOrigin, type Origin } from "./origin.js";

export type Env = Readonly<Record<string, string | undefined>>;

export interface GetTokenOptions extends GetTokenValues {
  /** `<cache-dir>/auth.json`, computed before any environment variable is read (§1.2 step 1). */
  authRecordCacheFile: string;
}

export type Provenance = Readonly<Record<GetTokenKey, Origin>>;

export interface ResolvedOptions<O extends GetTokenOptions = GetTokenOptions> {
  readonly options: Readonly<O>;
  readonly provenance: Provenance;
}

const SPECS = GET_TOKEN_OPTIONS as readonly OptionSpec<GetTokenKey>[];

export function defaultCacheDir(env: Env, homedir: string): { value: string; origin: Origin } {
  const fromEnv = env.KUBECACHEDIR;
  if (fromEnv) return { value: fromEnv, origin: { kind: "env", name: "KUBECACHEDIR" } };
  return { value: `${homedir}/.kube/cache/kubelogin/`, origin: DEFAULT_ORIGIN };
}

function defaultOf(spec: OptionSpec<GetTokenKey>, env: Env, homedir: string): { value: FlagValue; origin: Origin } {
  switch (spec.key) {
    case "loginMethod":
      return { value: DEFAULT_LOGIN, origin: DEFAULT_ORIGIN };
    case "environment":
      return { value: DEFAULT_ENVIRONMENT, origin: DEFAULT_ORIGIN };
    case "timeout":
      return { value: DEFAULT_TIMEOUT_MS, origin: DEFAULT_ORIGIN };
    case "cacheBackend":
      return { value: "auto", origin: DEFAULT_ORIGIN };
    case "cacheDir":
      return defaultCacheDir(env, homedir);
    default:
      return { value: spec.type === "bool" ? false : "", origin: DEFAULT_ORIGIN };
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
  const provenance: Partial<Record<GetTokenKey, Origin>> = {};
  const flagOf = (spec: OptionSpec<GetTokenKey>): string => flags.setBy?.[spec.key] ?? spec.flag;
  for (const spec of SPECS) {
    // Stryker disable next-line ConditionalExpression: an alias row comes before its real row, which then writes the same key again with the same value
    if (spec.aliasOf) continue;
    if (flags.changed.has(spec.key)) {
      values[spec.key] = flags.values[spec.key]!;
      provenance[spec.key] = { kind: "flag", flag: flagOf(spec) };
    } else {
      const fallback = defaultOf(spec, env, homedir);
      values[spec.key] = fallback.value;
      provenance[spec.key] = fallback.origin;
    }
  }
  const authRecordCacheFile = joinPath(String(values.cacheDir), "auth.json");

  if (values.disableEnvironmentOverride !== true) {
    const useAzureRm = values.useAzureRmEnvVars === true;
    // --login is the table's first row, so the mode-specific rules below see the env-resolved mode (§1.2 step 6).
    for (const spec of SPECS) {
      if (!spec.env || spec.aliasOf) continue;
      const mode = String(values.loginMethod);
      const rules = spec.env.filter((rule) => applies(rule.when, useAzureRm, mode));
      const overriding = rules.filter((rule) => !rule.fallback).find((rule) => env[rule.name] !== undefined && acceptsEnv(spec, env[rule.name]!));
      if (overriding) {
        values[spec.key] = spec.type === "duration" ? parseGoDuration(env[overriding.name]!) : env[overriding.name]!;
        provenance[spec.key] = { kind: "env", name: overriding.name, ...(flags.changed.has(spec.key) ? { overrode: flagOf(spec) } : {}) };
      }
      for (const rule of rules.filter((r) => r.fallback)) {
        if (values[spec.key] === "" && env[rule.name]) {
          values[spec.key] = env[rule.name]!;
          provenance[spec.key] = { kind: "env", name: rule.name };
        }
      }
    }
  }
  // An invariant the loops above keep (every row gets a value and an origin); the check is what narrows
  // the types, so a mutant that never throws here cannot be seen from outside.
  // Stryker disable next-line ConditionalExpression,LogicalOperator,StringLiteral: see above
  if (!isComplete(values) || !hasEveryKey(provenance)) throw new Error("internal: an option row was left unresolved");
  return { options: { ...values, authRecordCacheFile }, provenance };
}

const JS_TYPE_OF: Readonly<Record<OptionType, "string" | "boolean" | "number">> = {
  string: "string",
  bool: "boolean",
  duration: "number",
  // Stryker disable next-line StringLiteral: no get-token row is an int32 (-v is a global flag); the type wants every OptionType
  int32: "number",
};

/** Every row holds a value of its declared type: what GetTokenValues promises. */
function isComplete(values: Record<string, FlagValue>): values is GetTokenValues {
  // Stryker disable next-line MethodExpression,ConditionalExpression: always true (the invariant above), so some() or true answer alike
  return SPECS.every((spec) => typeof values[spec.key] === JS_TYPE_OF[spec.type]);
}

function hasEveryKey(provenance: Partial<Record<GetTokenKey, Origin>>): provenance is Record<GetTokenKey, Origin> {
  // Stryker disable next-line MethodExpression,ConditionalExpression: always true (the invariant above), so some() or true answer alike
  return SPECS.every((spec) => provenance[spec.key] !== undefined);
}

/** AZURE_CLI_TIMEOUT is applied only when it parses as a Go duration; any other variable always applies. */
function acceptsEnv(spec: OptionSpec, raw: string): boolean {
  if (spec.type !== "duration") return true;
  try {
    parseGoDuration(raw);
  } catch {
    return false;
  }
  return true;
}

/** Go's filepath.Join: cleans the result (`/tmp//foo/` → `/tmp/foo/auth.json`); an empty directory yields the bare name. */
function joinPath(dir: string, name: string): string {
  return join(dir, name);
}

/** The values of the rows marked `secret`, for the logger and the error reporter to redact. */
export function secretValues(options: Readonly<GetTokenValues>): string[] {
  return SPECS.filter((spec) => spec.secret).map((spec) => String(options[spec.key]));
}

/** The options as a -v log line: every value with its provenance, secrets masked, then the auth-record file. */
export function describeOptions(resolved: ResolvedOptions): string {
  const fields = SPECS
    .filter((spec) => !spec.aliasOf)
    .map((spec) => {
      const value = resolved.options[spec.key];
      const shown = spec.secret ? (value ? "***" : '""') : spec.type === "duration" ? formatGoDuration(Number(value)) : JSON.stringify(value);
      return `${spec.flag.slice(2)}=${shown} [${describeOrigin(resolved.provenance[spec.key])}]`;
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
  const spec = SPECS.find((s) => s.key === key && !s.aliasOf);
  // Stryker disable next-line OptionalChaining,ArrayDeclaration: every GetTokenKey has a row, and a non-rule element would fail applies() and be filtered out
  const names = (spec?.env ?? []).filter((rule) => applies(rule.when, options.useAzureRmEnvVars, options.loginMethod)).map((rule) => rule.name);
  return [...new Set(names)];
}
