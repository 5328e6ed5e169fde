// Upstream's converter (Azure/kubelogin pkg/internal/converter/convert.go; compat spec §5.2–§5.4)
// as a pure function over a parsed kubeconfig. Every stanza is built before any user is touched,
// so an error leaves the document exactly as it was.
import { isDeepStrictEqual } from "node:util";
import { KubeconfigError, ValidationError } from "../errors.js";
import { strconvQuote } from "../options/go-quote.js";
import type { GetTokenOptions, Provenance } from "../options/resolve.js";
import { LOGIN_MODES, type GetTokenKey, type LoginMode } from "../options/table.js";
import { isLoginMode } from "../options/validate.js";
import { applyExec, isMap, stringField, type ExecConfig, type KubeconfigDoc, type NamedUser, type YamlMap } from "./model.js";

export const EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1";
export const EXEC_COMMAND = "kubelogin";
export const DEFAULT_INSTALL_HINT =
  "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://azure.github.io/kubelogin/\n";

export interface ConvertRequest {
  /** Option values after environment overrides (resolveOptions). */
  readonly options: Readonly<GetTokenOptions>;
  /** Keys whose flag was on the command line (pflag "changed"); only these are ever written. */
  readonly changed: ReadonlySet<string>;
  /** --context: convert only the user this context names. */
  readonly context?: string;
  /** --azure-config-dir: becomes AZURE_CONFIG_DIR in azurecli stanzas. */
  readonly azureConfigDir?: string;
  /** Which file each user came from; only used to word error hints. */
  readonly origins?: ReadonlyMap<string, string>;
  /** Where each option value came from; lets a hint say that an env var alone is never written. */
  readonly provenance?: Provenance;
}

export interface ConvertedUser {
  readonly name: string;
  readonly exec: ExecConfig;
}

export interface ConvertResult {
  /** The same document, edited in place. */
  readonly doc: KubeconfigDoc;
  /** Users whose stanza differs from what they had, in document order. */
  readonly changedUsers: readonly ConvertedUser[];
  /** Users that were converted but already had exactly this stanza. */
  readonly unchangedUsers: readonly string[];
}

/** A user that cannot be converted with the values at hand; upstream's text, plus a hint. */
export class ConvertError extends KubeconfigError {}

export function convertKubeconfig(doc: KubeconfigDoc, request: ConvertRequest): ConvertResult {
  const mode = request.options.loginMethod;
  if (!isLoginMode(mode)) {
    throw new ValidationError(`'${mode}' is not a supported login method. Supported method is one of ${LOGIN_MODES.join(", ")}`);
  }
  const target = targetUser(doc, request.context ?? "");
  const planned: Array<{ entry: NamedUser; user: YamlMap; exec: ExecConfig }> = [];
  for (const entry of effectiveEntries(doc.users)) {
    const name = entry.name ?? "";
    const user = entry.user;
    if ((target !== "" && name !== target) || !isMap(user) || !isConvertible(user)) continue;
    planned.push({ entry, user, exec: buildExec(name, user, mode, request) });
  }
  const changedUsers: ConvertedUser[] = [];
  const unchangedUsers: string[] = [];
  for (const { entry, user, exec } of planned) {
    const name = entry.name ?? "";
    if (!("auth-provider" in user) && isDeepStrictEqual(user.exec, exec)) {
      unchangedUsers.push(name);
      continue;
    }
    applyExec(user, exec);
    changedUsers.push({ name, exec });
  }
  return { doc, changedUsers, unchangedUsers };
}

/** A user is converted when it uses the legacy azure auth-provider or a kubelogin exec plugin (§5.2). */
export function isConvertible(user: YamlMap): boolean {
  return azureAuthProvider(user) !== undefined || isKubeloginExec(user);
}

function azureAuthProvider(user: YamlMap): YamlMap | undefined {
  const provider = user["auth-provider"];
  return isMap(provider) && provider.name === "azure" ? provider : undefined;
}

function isKubeloginExec(user: YamlMap): boolean {
  return isMap(user.exec) && stringField(user.exec, "command").toLowerCase().includes("kubelogin");
}

/** client-go keeps the last entry of a name within one file; the loader already merged across files. */
function effectiveEntries<T extends { name?: string }>(list: readonly T[] | null | undefined): T[] {
  const last = new Map<string, T>();
  for (const entry of list ?? []) last.set(entry.name ?? "", entry);
  return (list ?? []).filter((entry) => last.get(entry.name ?? "") === entry);
}

function targetUser(doc: KubeconfigDoc, context: string): string {
  if (context === "") return "";
  const found = effectiveEntries(doc.contexts).find((entry) => (entry.name ?? "") === context);
  if (!found) {
    const names = effectiveEntries(doc.contexts).map((entry) => entry.name ?? "");
    throw new KubeconfigError(`no context exists with the name: ${strconvQuote(context)}`, {
      hint: names.length > 0 ? `pass --context with one of: ${names.join(", ")}` : "the kubeconfig defines no contexts; drop --context to convert every user",
    });
  }
  // A context without a user makes the target empty, which upstream treats as "every user".
  return stringField(found.context, "user");
}

/** Values that fall back to the auth-provider config, or else to the existing exec args (§5.3). */
type LookupKey = "environment" | "tenantId" | "clientId" | "serverId" | "cacheDir" | "popClaims" | "redirectUrl" | "loginHint";

const LOOKUP: Readonly<Record<LookupKey, { flag: string; config?: string; alias?: string }>> = {
  environment: { flag: "--environment", config: "environment" },
  tenantId: { flag: "--tenant-id", config: "tenant-id" },
  clientId: { flag: "--client-id", config: "client-id" },
  serverId: { flag: "--server-id", config: "apiserver-id" },
  cacheDir: { flag: "--cache-dir", alias: "--token-cache-dir" },
  popClaims: { flag: "--pop-claims" },
  redirectUrl: { flag: "--redirect-url" },
  loginHint: { flag: "--login-hint" },
};

/** Upstream's getExecArg: exact token, first occurrence that has a next token, which is the value. */
export function execArg(args: readonly string[], flag: string): string {
  for (let i = 0; i + 1 < args.length; i++) if (args[i] === flag) return args[i + 1]!;
  return "";
}

interface Sources {
  readonly lookup: (key: LookupKey) => string;
  readonly require: (key: "serverId" | "clientId" | "tenantId") => string;
  /** `[flag, value]` when the flag was on the command line (value after env overrides), else nothing. */
  readonly ifFlagSet: (key: GetTokenKey, flag: string) => string[];
  readonly flagSet: (key: GetTokenKey) => boolean;
  readonly legacy: boolean;
  readonly pop: () => string[];
}

function buildExec(name: string, user: YamlMap, mode: LoginMode, request: ConvertRequest): ExecConfig {
  const sources = sourcesFor(name, user, request);
  const serverId = sources.require("serverId");
  const cacheDir = sources.lookup("cacheDir");
  const args = ["get-token", "--login", mode, "--server-id", serverId, ...(cacheDir ? ["--cache-dir", cacheDir] : []), ...MODE_ARGS[mode](sources)];
  const azureConfigDir = request.azureConfigDir ?? "";
  const oldExec = isMap(user.exec) ? user.exec : undefined;
  return {
    apiVersion: EXEC_API_VERSION,
    args,
    command: EXEC_COMMAND,
    env: mode === "azurecli" && azureConfigDir !== "" ? [{ name: "AZURE_CONFIG_DIR", value: azureConfigDir }] : null,
    installHint: stringField(oldExec, "installHint") || DEFAULT_INSTALL_HINT,
    provideClusterInfo: false,
  };
}

function sourcesFor(name: string, user: YamlMap, request: ConvertRequest): Sources {
  const { options, changed } = request;
  const provider = azureAuthProvider(user);
  const config = provider && isMap(provider.config) ? provider.config : undefined;
  // Stryker disable next-line ArrayDeclaration: a list without the flags read here reads as empty
  const args = !provider && isMap(user.exec) && Array.isArray(user.exec.args) ? (user.exec.args as string[]) : [];
  const lookup = (key: LookupKey): string => {
    if (changed.has(key)) return String(options[key]);
    const spec = LOOKUP[key];
    if (provider) return spec.config ? stringField(config, spec.config) : "";
    return execArg(args, spec.flag) || (spec.alias ? execArg(args, spec.alias) : "");
  };
  const popEnabled = changed.has("isPopTokenEnabled") ? options.isPopTokenEnabled : !provider && args.includes("--pop-enabled");
  return {
    lookup,
    require: (key) => {
      const value = lookup(key);
      if (value === "") throw missingValue(name, key, request, provider !== undefined);
      return value;
    },
    ifFlagSet: (key, flag) => (changed.has(key) ? [flag, String(options[key])] : []),
    flagSet: (key) => changed.has(key),
    // --legacy=false on the command line does not cancel legacy found in the user (§5.3).
    legacy:
      (changed.has("legacy") && options.legacy) ||
      (provider ? ["", "0"].includes(stringField(config, "config-mode")) : args.includes("--legacy")),
    pop: () => {
      const claims = lookup("popClaims");
      if (popEnabled && claims === "") {
        throw new ConvertError("--pop-claims is required when specifying --pop-enabled", {
          hint: `pass --pop-claims "u=<cluster ARM ID>" for user ${JSON.stringify(name)}, or --pop-enabled=false to drop PoP`,
        });
      }
      if (claims !== "" && !popEnabled) {
        throw new ConvertError("--pop-enabled is required when specifying --pop-claims", {
          hint: `pass --pop-enabled for user ${JSON.stringify(name)}, or --pop-claims "" to drop the claims`,
        });
      }
      return popEnabled ? ["--pop-enabled", "--pop-claims", claims] : [];
    },
  };
}

/** --client-id, --tenant-id and --environment, in that order; the first two required (§5.4). */
function entraArgs(s: Sources): string[] {
  const clientId = s.require("clientId");
  const tenantId = s.require("tenantId");
  const environment = s.lookup("environment");
  return ["--client-id", clientId, "--tenant-id", tenantId, ...(environment ? ["--environment", environment] : [])];
}

const legacyArg = (s: Sources): string[] => (s.legacy ? ["--legacy"] : []);

function optionalLookup(s: Sources, key: LookupKey): string[] {
  const value = s.lookup(key);
  return value ? [LOOKUP[key].flag, value] : [];
}

/** Mode-specific arguments after get-token/--login/--server-id/--cache-dir, in upstream's order (§5.4). */
const MODE_ARGS = {
  devicecode: (s) => [...entraArgs(s), ...legacyArg(s)],
  interactive: (s) => [...entraArgs(s), ...s.pop(), ...optionalLookup(s, "redirectUrl"), ...optionalLookup(s, "loginHint")],
  spn: (s) => [
    ...entraArgs(s),
    ...s.ifFlagSet("clientSecret", "--client-secret"),
    ...s.ifFlagSet("clientCertificate", "--client-certificate"),
    ...s.ifFlagSet("clientCertificatePassword", "--client-certificate-password"),
    ...legacyArg(s),
    ...s.pop(),
    // Written whenever the flag was given, even as --disable-environment-override=false (upstream does the same).
    ...(s.flagSet("disableEnvironmentOverride") ? ["--disable-environment-override"] : []),
  ],
  ropc: (s) => [...entraArgs(s), ...s.ifFlagSet("username", "--username"), ...s.ifFlagSet("password", "--password"), ...legacyArg(s), ...s.pop()],
  msi: (s) => (s.flagSet("clientId") ? s.ifFlagSet("clientId", "--client-id") : s.ifFlagSet("identityResourceId", "--identity-resource-id")),
  // Existing tenant/subscription args are dropped on purpose: an az logged in with a managed identity rejects a tenant.
  azurecli: (s) => [...s.ifFlagSet("tenantId", "--tenant-id"), ...s.ifFlagSet("subscription", "--subscription")],
  azd: (s) => s.ifFlagSet("tenantId", "--tenant-id"),
  workloadidentity: (s) => [
    ...s.ifFlagSet("clientId", "--client-id"),
    ...s.ifFlagSet("tenantId", "--tenant-id"),
    ...s.ifFlagSet("authorityHost", "--authority-host"),
    ...s.ifFlagSet("federatedTokenFile", "--federated-token-file"),
  ],
  // Never --client-id for this mode: the service connection supplies it at run time.
  azurepipelines: (s) => ["--tenant-id", s.require("tenantId"), ...s.ifFlagSet("azurePipelinesServiceConnectionId", "--azure-pipelines-service-connection-id")],
} satisfies Record<LoginMode, (s: Sources) => string[]>;

const DESCRIBED: Readonly<Record<"serverId" | "clientId" | "tenantId", { flag: string; config: string; what: string }>> = {
  serverId: { flag: "--server-id", config: "apiserver-id", what: "AAD server application ID" },
  clientId: { flag: "--client-id", config: "client-id", what: "AAD client application ID" },
  tenantId: { flag: "--tenant-id", config: "tenant-id", what: "AAD tenant ID" },
};

function missingValue(name: string, key: "serverId" | "clientId" | "tenantId", request: ConvertRequest, fromProvider: boolean): ConvertError {
  const { flag, config, what } = DESCRIBED[key];
  const origin = request.origins?.get(name);
  const where = fromProvider ? `${config} in its azure auth-provider config` : `${flag} in its exec args`;
  const source = request.provenance?.[key];
  const envName = source?.kind === "env" ? source.name : undefined;
  let envNote = "";
  if (envName && request.changed.has(key)) envNote = `; ${envName} overrode ${flag} with an empty value`;
  else if (envName) envNote = `; ${envName} is set, but convert-kubeconfig writes only values given as flags`;
  return new ConvertError(`${flag} is required`, {
    hint: `user ${JSON.stringify(name)}${origin ? ` in ${origin}` : ""} has no ${where}; pass ${flag} <${what}>${envNote}`,
  });
}
