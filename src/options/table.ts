// One row per get-token flag, in upstream's declaration order (compat spec §1.1), with the
// environment variables that can set it (§1.2). resolve.ts walks this table; nothing else knows
// the precedence rules.

export const LOGIN_MODES = [
  "devicecode",
  "interactive",
  "spn",
  "ropc",
  "msi",
  "azurecli",
  "azd",
  "workloadidentity",
  "azurepipelines",
] as const;
export type LoginMode = (typeof LOGIN_MODES)[number];

/**
 * When an environment rule applies:
 * - `standard`: unless --use-azurerm-env-vars (the AAD_* / AZURE_* family)
 * - `azurerm`: only with --use-azurerm-env-vars (Terraform's ARM_* family)
 * - `always`: regardless of --use-azurerm-env-vars
 * - a login mode: only when the (env-resolved) login is that mode
 */
export type EnvCondition = "standard" | "azurerm" | "always" | LoginMode;

export interface EnvRule {
  readonly name: string;
  readonly when: EnvCondition;
  /** Fills the value only when flags and other variables left it empty (AZURESUBSCRIPTION_*). */
  readonly fallback?: true;
}

/** `int32`: Go's strconv.ParseInt(s, 10, 32), what klog's Level flag (-v) accepts. */
export type OptionType = "string" | "bool" | "duration" | "int32";

export interface OptionSpec<K extends string = string> {
  readonly key: K;
  readonly flag: string;
  readonly short?: string;
  readonly type: OptionType;
  readonly help: string;
  /** Environment rules, highest priority first. Any of them beats the flag unless it is a fallback. */
  readonly env?: readonly EnvRule[];
  readonly secret?: true;
  readonly deprecated?: string;
  /** Another flag that writes the same variable (pflag: whichever appears last wins). */
  readonly aliasOf?: K;
}

const standard = (...names: string[]): EnvRule[] => names.map((name) => ({ name, when: "standard" as const }));

export const GET_TOKEN_OPTIONS = [
  { key: "loginMethod", flag: "--login", short: "-l", type: "string", help: `Login method. Supported methods: ${LOGIN_MODES.join(", ")}. It may be specified in AAD_LOGIN_METHOD environment variable`, env: [{ name: "AAD_LOGIN_METHOD", when: "always" }] },
  {
    key: "clientId", flag: "--client-id", type: "string", help: "AAD client application ID. It may be specified in AAD_SERVICE_PRINCIPAL_CLIENT_ID or AZURE_CLIENT_ID environment variable",
    env: [
      { name: "AZURE_CLIENT_ID", when: "workloadidentity" },
      ...standard("AZURE_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_ID"),
      { name: "ARM_CLIENT_ID", when: "azurerm" },
      { name: "AZURESUBSCRIPTION_CLIENT_ID", when: "azurepipelines", fallback: true },
    ],
  },
  { key: "clientSecret", flag: "--client-secret", type: "string", secret: true, help: "AAD client application secret. Used in spn login. It may be specified in AAD_SERVICE_PRINCIPAL_CLIENT_SECRET or AZURE_CLIENT_SECRET environment variable", env: [...standard("AZURE_CLIENT_SECRET", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"), { name: "ARM_CLIENT_SECRET", when: "azurerm" }] },
  { key: "clientCertificate", flag: "--client-certificate", type: "string", help: "AAD client cert in pfx or PEM format. Used in spn login. It may be specified in AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE or AZURE_CLIENT_CERTIFICATE_PATH environment variable", env: [...standard("AZURE_CLIENT_CERTIFICATE_PATH", "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE"), { name: "ARM_CLIENT_CERTIFICATE_PATH", when: "azurerm" }] },
  { key: "clientCertificatePassword", flag: "--client-certificate-password", type: "string", secret: true, help: "Password for the client cert in pfx format. Used in spn login. It may be specified in AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD or AZURE_CLIENT_CERTIFICATE_PASSWORD environment variable", env: [...standard("AZURE_CLIENT_CERTIFICATE_PASSWORD", "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD"), { name: "ARM_CLIENT_CERTIFICATE_PASSWORD", when: "azurerm" }] },
  { key: "username", flag: "--username", type: "string", help: "user name for ropc login flow. It may be specified in AAD_USER_PRINCIPAL_NAME or AZURE_USERNAME environment variable", env: [{ name: "AZURE_USERNAME", when: "always" }, { name: "AAD_USER_PRINCIPAL_NAME", when: "always" }] },
  { key: "password", flag: "--password", type: "string", secret: true, help: "password for ropc login flow. It may be specified in AAD_USER_PRINCIPAL_PASSWORD or AZURE_PASSWORD environment variable", env: [{ name: "AZURE_PASSWORD", when: "always" }, { name: "AAD_USER_PRINCIPAL_PASSWORD", when: "always" }] },
  { key: "identityResourceId", flag: "--identity-resource-id", type: "string", help: "Managed Identity resource id." },
  { key: "serverId", flag: "--server-id", type: "string", help: "AAD server application ID" },
  { key: "federatedTokenFile", flag: "--federated-token-file", type: "string", help: "Workload Identity federated token file. It may be specified in AZURE_FEDERATED_TOKEN_FILE environment variable", env: [{ name: "AZURE_FEDERATED_TOKEN_FILE", when: "workloadidentity" }] },
  { key: "authorityHost", flag: "--authority-host", type: "string", help: "Workload Identity authority host. It may be specified in AZURE_AUTHORITY_HOST environment variable", env: [{ name: "AZURE_AUTHORITY_HOST", when: "workloadidentity" }] },
  { key: "azurePipelinesServiceConnectionId", flag: "--azure-pipelines-service-connection-id", type: "string", help: "Service connection (resource) ID used by azurepipelines login. It may be specified in AZURESUBSCRIPTION_SERVICE_CONNECTION_ID environment variable", env: [{ name: "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", when: "azurepipelines", fallback: true }] },
  { key: "cacheDir", flag: "--token-cache-dir", type: "string", help: "directory to cache token", deprecated: "use --cache-dir instead", aliasOf: "cacheDir" },
  { key: "cacheDir", flag: "--cache-dir", type: "string", help: "directory to cache authentication record and tokens" },
  { key: "tenantId", flag: "--tenant-id", short: "-t", type: "string", help: "AAD tenant ID. It may be specified in AZURE_TENANT_ID environment variable", env: [...standard("AZURE_TENANT_ID"), { name: "ARM_TENANT_ID", when: "azurerm" }, { name: "AZURESUBSCRIPTION_TENANT_ID", when: "azurepipelines", fallback: true }] },
  { key: "subscription", flag: "--subscription", short: "-s", type: "string", help: "Azure subscription ID or name. Used in azurecli login" },
  { key: "environment", flag: "--environment", short: "-e", type: "string", help: "Azure environment name" },
  { key: "legacy", flag: "--legacy", type: "bool", help: "set to true to get token with 'spn:' prefix in audience" },
  { key: "useAzureRmEnvVars", flag: "--use-azurerm-env-vars", type: "bool", help: "Use environment variable names of Terraform Azure Provider (ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_CLIENT_CERTIFICATE_PATH, ARM_CLIENT_CERTIFICATE_PASSWORD, ARM_TENANT_ID)" },
  { key: "isPopTokenEnabled", flag: "--pop-enabled", type: "bool", help: "set to true to use a PoP token for authentication or false to use a regular bearer token" },
  { key: "timeout", flag: "--timeout", type: "duration", help: "Timeout duration for Azure CLI token requests. It may be specified in AZURE_CLI_TIMEOUT environment variable", env: [{ name: "AZURE_CLI_TIMEOUT", when: "always" }] },
  { key: "popClaims", flag: "--pop-claims", type: "string", help: "contains a comma-separated list of claims to attach to the pop token in the format `key=val,key2=val2`. At minimum, specify the ARM ID of the cluster as `u=ARM_ID`" },
  { key: "disableEnvironmentOverride", flag: "--disable-environment-override", type: "bool", help: "Enable or disable the use of env-variables. Default false" },
  { key: "disableInstanceDiscovery", flag: "--disable-instance-discovery", type: "bool", help: "set to true to disable instance discovery in environments with their own simple Identity Provider (not AAD) that do not have instance metadata discovery endpoint. Default false" },
  { key: "redirectUrl", flag: "--redirect-url", type: "string", help: "The URL Microsoft Entra ID will redirect to with the access token. This is only used for interactive login. This is an optional parameter." },
  { key: "loginHint", flag: "--login-hint", type: "string", help: "The login hint to pre-fill the username in the interactive login flow." },
  // Ours, not upstream's (decision 1): where refresh tokens are kept. Named so no upstream flag or variable collides.
  { key: "cacheBackend", flag: "--cache-backend", type: "string", help: "where refresh tokens are kept: auto (the OS keychain when it is reachable and unlocked, else files), keychain or file. It may be specified in KUBELOGIN_CACHE_BACKEND environment variable", env: [{ name: "KUBELOGIN_CACHE_BACKEND", when: "always" }] },
] as const satisfies readonly OptionSpec[];

export type GetTokenKey = (typeof GET_TOKEN_OPTIONS)[number]["key"];

/** What a flag of each type holds once parsed: durations in milliseconds. */
export type OptionValue<T extends OptionType> = T extends "bool" ? boolean : T extends "duration" | "int32" ? number : string;

/** One field per row of GET_TOKEN_OPTIONS, typed by the row's `type`: adding a row adds the field. */
export type GetTokenValues = {
  -readonly [K in GetTokenKey]: OptionValue<Extract<(typeof GET_TOKEN_OPTIONS)[number], { key: K }>["type"]>;
};

export const CONVERT_ONLY_OPTIONS = [
  { key: "kubeconfig", flag: "--kubeconfig", type: "string", help: "Path to the kubeconfig file to use for CLI requests." },
  { key: "context", flag: "--context", type: "string", help: "The name of the kubeconfig context to use" },
  { key: "azureConfigDir", flag: "--azure-config-dir", type: "string", help: "Azure CLI config path" },
] as const satisfies readonly OptionSpec[];

/** klog's flags, accepted before or after any subcommand. */
export const GLOBAL_OPTIONS = [
  { key: "verbosity", flag: "--v", short: "-v", type: "int32", help: "number for the log level verbosity" },
  { key: "logtostderr", flag: "--logtostderr", type: "bool", help: "log to standard error instead of files" },
] as const satisfies readonly OptionSpec[];

/** Cobra's root-only flags; `-h, --help` is added to every command by parseFlags. */
export const ROOT_OPTIONS = [
  ...GLOBAL_OPTIONS,
  { key: "version", flag: "--version", type: "bool", help: "version for kubelogin" },
] as const satisfies readonly OptionSpec[];

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_ENVIRONMENT = "AzurePublicCloud";
export const DEFAULT_LOGIN: LoginMode = "devicecode";
