// The precedence table of compat spec §1.2, tested as a table (style guide pattern 7): each row is
// argv + environment → the option values it must produce and where they came from. Environment
// beats flags (AZURE_* > AAD_* > flag, or ARM_* > flag), unless --disable-environment-override.
import { describe, expect, test } from "vitest";
import { parseFlags } from "../../src/options/parse-flags.js";
import {
  describeOptions,
  envNamesFor,
  resolveOptions,
  type Env,
  secretValues,
  type GetTokenOptions,
} from "../../src/options/resolve.js";
import { describeOrigin } from "../../src/options/origin.js";
import { GET_TOKEN_OPTIONS, type GetTokenKey } from "../../src/options/table.js";

const HOME = "/home/user";
const DEFAULT_CACHE_DIR = "/home/user/.kube/cache/kubelogin/";

const resolve = (argv: readonly string[], env: Env = {}) => resolveOptions(parseFlags(argv, GET_TOKEN_OPTIONS), env, HOME);

function pick<T extends object>(from: T, like: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.keys(like).map((key) => [key, from[key as keyof T]])) as Partial<T>;
}

interface Row {
  readonly argv: readonly string[];
  readonly env: Env;
  readonly want: Partial<GetTokenOptions>;
  /** Each origin as describeOrigin writes it (what -v shows). */
  readonly from?: Partial<Record<GetTokenKey, string>>;
}

const SPN_FLAGS = ["--client-id", "flag-client", "--client-secret", "flag-secret", "--client-certificate", "flag.pem", "--client-certificate-password", "flag-pfx-pass", "--tenant-id", "flag-tenant"];

const ROWS: Record<string, Row> = {
  // ── defaults and flags ──
  "defaults": {
    argv: [],
    env: {},
    want: { loginMethod: "devicecode", environment: "AzurePublicCloud", timeout: 60_000, cacheDir: DEFAULT_CACHE_DIR, authRecordCacheFile: `${DEFAULT_CACHE_DIR}auth.json`, clientId: "", legacy: false },
    from: { loginMethod: "default", environment: "default", timeout: "default", cacheDir: "default", clientId: "default", legacy: "default" },
  },
  "a flag alone": {
    argv: ["--client-id", "flag-client", "-t", "flag-tenant", "-s", "sub", "--subscription", "sub2"],
    env: {},
    want: { clientId: "flag-client", tenantId: "flag-tenant", subscription: "sub2" },
    from: { clientId: "flag --client-id", tenantId: "flag --tenant-id", subscription: "flag --subscription" },
  },
  "unrelated env is ignored": {
    argv: ["--server-id", "srv"],
    env: { SERVER_ID: "x", AAD_SERVER_ID: "x", AZURE_ENVIRONMENT: "AzureChinaCloud", AZURE_SUBSCRIPTION_ID: "x" },
    want: { serverId: "srv", environment: "AzurePublicCloud", subscription: "" },
  },

  // ── step 4: AZURE_* > AAD_* > flag ──
  "AAD_SERVICE_PRINCIPAL_CLIENT_ID beats --client-id": {
    argv: ["--client-id", "flag-client"],
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_ID: "aad-client" },
    want: { clientId: "aad-client" },
    from: { clientId: "env AAD_SERVICE_PRINCIPAL_CLIENT_ID (overrode --client-id)" },
  },
  "AZURE_CLIENT_ID beats AAD_SERVICE_PRINCIPAL_CLIENT_ID and --client-id": {
    argv: ["--client-id", "flag-client"],
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_ID: "aad-client", AZURE_CLIENT_ID: "azure-client" },
    want: { clientId: "azure-client" },
    from: { clientId: "env AZURE_CLIENT_ID (overrode --client-id)" },
  },
  "env without the flag": {
    argv: [],
    env: { AZURE_CLIENT_ID: "azure-client" },
    want: { clientId: "azure-client" },
    from: { clientId: "env AZURE_CLIENT_ID" },
  },
  "present-but-empty AZURE_CLIENT_ID overrides the flag with ''": {
    argv: ["--client-id", "flag-client"],
    env: { AZURE_CLIENT_ID: "" },
    want: { clientId: "" },
    from: { clientId: "env AZURE_CLIENT_ID (overrode --client-id)" },
  },
  "present-but-empty AZURE_CLIENT_ID also beats a non-empty AAD_*": {
    argv: [],
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_ID: "aad-client", AZURE_CLIENT_ID: "" },
    want: { clientId: "" },
    from: { clientId: "env AZURE_CLIENT_ID" },
  },
  "client secret: AZURE_* > AAD_* > flag": {
    argv: SPN_FLAGS,
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: "aad-secret", AZURE_CLIENT_SECRET: "azure-secret" },
    want: { clientSecret: "azure-secret" },
    from: { clientSecret: "env AZURE_CLIENT_SECRET (overrode --client-secret)" },
  },
  "client secret: AAD_* > flag": {
    argv: SPN_FLAGS,
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: "aad-secret" },
    want: { clientSecret: "aad-secret" },
    from: { clientSecret: "env AAD_SERVICE_PRINCIPAL_CLIENT_SECRET (overrode --client-secret)" },
  },
  "client certificate: AZURE_CLIENT_CERTIFICATE_PATH > AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE > flag": {
    argv: SPN_FLAGS,
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE: "aad.pem", AZURE_CLIENT_CERTIFICATE_PATH: "azure.pem" },
    want: { clientCertificate: "azure.pem" },
    from: { clientCertificate: "env AZURE_CLIENT_CERTIFICATE_PATH (overrode --client-certificate)" },
  },
  "certificate password: AAD_* > flag": {
    argv: SPN_FLAGS,
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD: "aad-pass" },
    want: { clientCertificatePassword: "aad-pass" },
    from: { clientCertificatePassword: "env AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD (overrode --client-certificate-password)" },
  },
  "certificate password: AZURE_* > AAD_*": {
    argv: [],
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD: "aad-pass", AZURE_CLIENT_CERTIFICATE_PASSWORD: "azure-pass" },
    want: { clientCertificatePassword: "azure-pass" },
    from: { clientCertificatePassword: "env AZURE_CLIENT_CERTIFICATE_PASSWORD" },
  },
  "AZURE_TENANT_ID beats -t": {
    argv: ["-t", "flag-tenant"],
    env: { AZURE_TENANT_ID: "azure-tenant" },
    want: { tenantId: "azure-tenant" },
    from: { tenantId: "env AZURE_TENANT_ID (overrode --tenant-id)" },
  },
  "ARM_* is not read without --use-azurerm-env-vars": {
    argv: SPN_FLAGS,
    env: { ARM_CLIENT_ID: "arm-client", ARM_CLIENT_SECRET: "arm-secret", ARM_CLIENT_CERTIFICATE_PATH: "arm.pem", ARM_CLIENT_CERTIFICATE_PASSWORD: "arm-pass", ARM_TENANT_ID: "arm-tenant" },
    want: { clientId: "flag-client", clientSecret: "flag-secret", clientCertificate: "flag.pem", clientCertificatePassword: "flag-pfx-pass", tenantId: "flag-tenant" },
    from: { clientId: "flag --client-id", tenantId: "flag --tenant-id" },
  },

  // ── step 5: username / password, always ──
  "username/password: AZURE_* > AAD_USER_PRINCIPAL_* > flag": {
    argv: ["--username", "flag-user", "--password", "flag-pass"],
    env: { AAD_USER_PRINCIPAL_NAME: "aad-user", AZURE_USERNAME: "azure-user", AAD_USER_PRINCIPAL_PASSWORD: "aad-pass", AZURE_PASSWORD: "azure-pass" },
    want: { username: "azure-user", password: "azure-pass" },
    from: { username: "env AZURE_USERNAME (overrode --username)", password: "env AZURE_PASSWORD (overrode --password)" },
  },
  "username/password: AAD_USER_PRINCIPAL_* > flag": {
    argv: ["--username", "flag-user", "--password", "flag-pass"],
    env: { AAD_USER_PRINCIPAL_NAME: "aad-user", AAD_USER_PRINCIPAL_PASSWORD: "aad-pass" },
    want: { username: "aad-user", password: "aad-pass" },
    from: { username: "env AAD_USER_PRINCIPAL_NAME (overrode --username)", password: "env AAD_USER_PRINCIPAL_PASSWORD (overrode --password)" },
  },
  "upstream case 1: the legacy AAD_* names": {
    argv: [],
    env: {
      AAD_SERVICE_PRINCIPAL_CLIENT_ID: "client",
      AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: "secret",
      AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE: "cert.pfx",
      AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD: "pfx-pass",
      AAD_USER_PRINCIPAL_NAME: "user",
      AAD_USER_PRINCIPAL_PASSWORD: "pass",
      AZURE_TENANT_ID: "tenant",
      AAD_LOGIN_METHOD: "devicecode",
    },
    want: { clientId: "client", clientSecret: "secret", clientCertificate: "cert.pfx", clientCertificatePassword: "pfx-pass", username: "user", password: "pass", tenantId: "tenant", loginMethod: "devicecode", timeout: 60_000 },
    from: { loginMethod: "env AAD_LOGIN_METHOD", timeout: "default" },
  },

  // ── step 3: --use-azurerm-env-vars ──
  "upstream case 2: ARM_* with --use-azurerm-env-vars; username/password stay empty": {
    argv: ["--use-azurerm-env-vars"],
    env: { ARM_CLIENT_ID: "arm-client", ARM_CLIENT_SECRET: "arm-secret", ARM_CLIENT_CERTIFICATE_PATH: "arm.pem", ARM_CLIENT_CERTIFICATE_PASSWORD: "arm-pass", ARM_TENANT_ID: "arm-tenant" },
    want: { clientId: "arm-client", clientSecret: "arm-secret", clientCertificate: "arm.pem", clientCertificatePassword: "arm-pass", tenantId: "arm-tenant", username: "", password: "", useAzureRmEnvVars: true },
    from: { clientId: "env ARM_CLIENT_ID", clientSecret: "env ARM_CLIENT_SECRET", clientCertificate: "env ARM_CLIENT_CERTIFICATE_PATH", clientCertificatePassword: "env ARM_CLIENT_CERTIFICATE_PASSWORD", tenantId: "env ARM_TENANT_ID" },
  },
  "ARM_* beats flags": {
    argv: ["--use-azurerm-env-vars", ...SPN_FLAGS],
    env: { ARM_CLIENT_ID: "arm-client", ARM_TENANT_ID: "" },
    want: { clientId: "arm-client", tenantId: "", clientSecret: "flag-secret" },
    from: { clientId: "env ARM_CLIENT_ID (overrode --client-id)", tenantId: "env ARM_TENANT_ID (overrode --tenant-id)", clientSecret: "flag --client-secret" },
  },
  "with --use-azurerm-env-vars the AAD_*/AZURE_* client names are not read": {
    argv: ["--use-azurerm-env-vars", ...SPN_FLAGS],
    env: {
      AZURE_CLIENT_ID: "azure-client", AAD_SERVICE_PRINCIPAL_CLIENT_ID: "aad-client",
      AZURE_CLIENT_SECRET: "azure-secret", AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: "aad-secret",
      AZURE_CLIENT_CERTIFICATE_PATH: "azure.pem", AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE: "aad.pem",
      AZURE_CLIENT_CERTIFICATE_PASSWORD: "azure-pass", AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD: "aad-pass",
      AZURE_TENANT_ID: "azure-tenant",
    },
    want: { clientId: "flag-client", clientSecret: "flag-secret", clientCertificate: "flag.pem", clientCertificatePassword: "flag-pfx-pass", tenantId: "flag-tenant" },
    from: { clientId: "flag --client-id", clientSecret: "flag --client-secret", clientCertificate: "flag --client-certificate", clientCertificatePassword: "flag --client-certificate-password", tenantId: "flag --tenant-id" },
  },
  "with --use-azurerm-env-vars username/password are still read from AAD_USER_PRINCIPAL_* / AZURE_*": {
    argv: ["--use-azurerm-env-vars", "--username", "flag-user"],
    env: { AAD_USER_PRINCIPAL_NAME: "aad-user", AZURE_PASSWORD: "azure-pass", ARM_CLIENT_ID: "arm-client" },
    want: { username: "aad-user", password: "azure-pass", clientId: "arm-client" },
    from: { username: "env AAD_USER_PRINCIPAL_NAME (overrode --username)", password: "env AZURE_PASSWORD" },
  },

  // ── step 6: AAD_LOGIN_METHOD ──
  "AAD_LOGIN_METHOD beats -l": {
    argv: ["-l", "msi"],
    env: { AAD_LOGIN_METHOD: "spn" },
    want: { loginMethod: "spn" },
    from: { loginMethod: "env AAD_LOGIN_METHOD (overrode --login)" },
  },
  "present-but-empty AAD_LOGIN_METHOD overrides with ''": {
    argv: ["--login", "azurecli"],
    env: { AAD_LOGIN_METHOD: "" },
    want: { loginMethod: "" },
    from: { loginMethod: "env AAD_LOGIN_METHOD (overrode --login)" },
  },
  "AAD_LOGIN_METHOD is taken verbatim (validation rejects bad case later)": {
    argv: [],
    env: { AAD_LOGIN_METHOD: "SPN" },
    want: { loginMethod: "SPN" },
  },

  // ── step 7: workloadidentity ──
  "upstream case 3: SDK names in workloadidentity": {
    argv: ["-l", "workloadidentity"],
    env: {
      AZURE_CLIENT_ID: "client",
      AZURE_CLIENT_SECRET: "secret",
      AZURE_CLIENT_CERTIFICATE_PATH: "cert.pem",
      AZURE_CLIENT_CERTIFICATE_PASSWORD: "pfx-pass",
      AZURE_USERNAME: "user",
      AZURE_PASSWORD: "pass",
      AZURE_TENANT_ID: "tenant",
      AZURE_FEDERATED_TOKEN_FILE: "/var/run/token",
      AZURE_AUTHORITY_HOST: "https://login.example.com/",
    },
    want: { clientId: "client", clientSecret: "secret", clientCertificate: "cert.pem", clientCertificatePassword: "pfx-pass", username: "user", password: "pass", tenantId: "tenant", federatedTokenFile: "/var/run/token", authorityHost: "https://login.example.com/" },
    from: { clientId: "env AZURE_CLIENT_ID", federatedTokenFile: "env AZURE_FEDERATED_TOKEN_FILE", authorityHost: "env AZURE_AUTHORITY_HOST" },
  },
  "workloadidentity: token file and authority host env beat their flags": {
    argv: ["-l", "workloadidentity", "--federated-token-file", "/flag/token", "--authority-host", "https://flag.example.com/"],
    env: { AZURE_FEDERATED_TOKEN_FILE: "/env/token", AZURE_AUTHORITY_HOST: "" },
    want: { federatedTokenFile: "/env/token", authorityHost: "" },
    from: { federatedTokenFile: "env AZURE_FEDERATED_TOKEN_FILE (overrode --federated-token-file)", authorityHost: "env AZURE_AUTHORITY_HOST (overrode --authority-host)" },
  },
  "workloadidentity re-reads AZURE_CLIENT_ID, which then beats ARM_CLIENT_ID": {
    argv: ["-l", "workloadidentity", "--use-azurerm-env-vars", "--client-id", "flag-client"],
    env: { ARM_CLIENT_ID: "arm-client", AZURE_CLIENT_ID: "azure-client", AAD_SERVICE_PRINCIPAL_CLIENT_ID: "aad-client" },
    want: { clientId: "azure-client" },
    from: { clientId: "env AZURE_CLIENT_ID (overrode --client-id)" },
  },
  "workloadidentity with --use-azurerm-env-vars and no AZURE_CLIENT_ID keeps ARM_CLIENT_ID": {
    argv: ["-l", "workloadidentity", "--use-azurerm-env-vars", "--client-id", "flag-client"],
    env: { ARM_CLIENT_ID: "arm-client", AAD_SERVICE_PRINCIPAL_CLIENT_ID: "aad-client" },
    want: { clientId: "arm-client" },
    from: { clientId: "env ARM_CLIENT_ID (overrode --client-id)" },
  },
  "workloadidentity with --use-azurerm-env-vars: a present-but-empty AZURE_CLIENT_ID wins": {
    argv: ["-l", "workloadidentity", "--use-azurerm-env-vars"],
    env: { ARM_CLIENT_ID: "arm-client", AZURE_CLIENT_ID: "" },
    want: { clientId: "" },
    from: { clientId: "env AZURE_CLIENT_ID" },
  },
  "workloadidentity chosen by AAD_LOGIN_METHOD enables the workloadidentity variables": {
    argv: ["-l", "spn"],
    env: { AAD_LOGIN_METHOD: "workloadidentity", AZURE_FEDERATED_TOKEN_FILE: "/env/token", AZURE_AUTHORITY_HOST: "https://login.example.com/" },
    want: { loginMethod: "workloadidentity", federatedTokenFile: "/env/token", authorityHost: "https://login.example.com/" },
  },
  "AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST are ignored outside workloadidentity": {
    argv: ["-l", "spn", "--federated-token-file", "/flag/token"],
    env: { AZURE_FEDERATED_TOKEN_FILE: "/env/token", AZURE_AUTHORITY_HOST: "https://login.example.com/" },
    want: { federatedTokenFile: "/flag/token", authorityHost: "" },
    from: { federatedTokenFile: "flag --federated-token-file", authorityHost: "default" },
  },
  "-l workloadidentity overridden to spn by AAD_LOGIN_METHOD ignores them too": {
    argv: ["-l", "workloadidentity"],
    env: { AAD_LOGIN_METHOD: "spn", AZURE_AUTHORITY_HOST: "https://login.example.com/" },
    want: { loginMethod: "spn", authorityHost: "" },
  },
  "msi: a stray AZURE_CLIENT_ID makes the request user-assigned": {
    argv: ["-l", "msi", "--identity-resource-id", "/subscriptions/x/rg/y"],
    env: { AZURE_CLIENT_ID: "stray-client" },
    want: { clientId: "stray-client", identityResourceId: "/subscriptions/x/rg/y" },
  },

  // ── step 8: AZURESUBSCRIPTION_* fallbacks, azurepipelines only ──
  "azurepipelines fills empty values from AZURESUBSCRIPTION_*": {
    argv: ["-l", "azurepipelines"],
    env: { AZURESUBSCRIPTION_CLIENT_ID: "sub-client", AZURESUBSCRIPTION_TENANT_ID: "sub-tenant", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "sub-conn" },
    want: { clientId: "sub-client", tenantId: "sub-tenant", azurePipelinesServiceConnectionId: "sub-conn" },
    from: { clientId: "env AZURESUBSCRIPTION_CLIENT_ID", tenantId: "env AZURESUBSCRIPTION_TENANT_ID", azurePipelinesServiceConnectionId: "env AZURESUBSCRIPTION_SERVICE_CONNECTION_ID" },
  },
  "azurepipelines: AZURESUBSCRIPTION_* never override non-empty flags": {
    argv: ["-l", "azurepipelines", "--client-id", "flag-client", "-t", "flag-tenant", "--azure-pipelines-service-connection-id", "flag-conn"],
    env: { AZURESUBSCRIPTION_CLIENT_ID: "sub-client", AZURESUBSCRIPTION_TENANT_ID: "sub-tenant", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "sub-conn" },
    want: { clientId: "flag-client", tenantId: "flag-tenant", azurePipelinesServiceConnectionId: "flag-conn" },
    from: { clientId: "flag --client-id", tenantId: "flag --tenant-id", azurePipelinesServiceConnectionId: "flag --azure-pipelines-service-connection-id" },
  },
  "azurepipelines: AZURESUBSCRIPTION_* never override non-empty env values": {
    argv: ["-l", "azurepipelines"],
    env: { AZURE_CLIENT_ID: "azure-client", AZURE_TENANT_ID: "azure-tenant", AZURESUBSCRIPTION_CLIENT_ID: "sub-client", AZURESUBSCRIPTION_TENANT_ID: "sub-tenant" },
    want: { clientId: "azure-client", tenantId: "azure-tenant" },
    from: { clientId: "env AZURE_CLIENT_ID", tenantId: "env AZURE_TENANT_ID" },
  },
  "azurepipelines: an env var that emptied the value lets the fallback fill it": {
    argv: ["-l", "azurepipelines", "--client-id", "flag-client"],
    env: { AZURE_CLIENT_ID: "", AZURESUBSCRIPTION_CLIENT_ID: "sub-client" },
    want: { clientId: "sub-client" },
    from: { clientId: "env AZURESUBSCRIPTION_CLIENT_ID" },
  },
  "azurepipelines: ARM_CLIENT_ID (with --use-azurerm-env-vars) beats the fallback": {
    argv: ["-l", "azurepipelines", "--use-azurerm-env-vars"],
    env: { ARM_CLIENT_ID: "arm-client", ARM_TENANT_ID: "", AZURESUBSCRIPTION_CLIENT_ID: "sub-client", AZURESUBSCRIPTION_TENANT_ID: "sub-tenant" },
    want: { clientId: "arm-client", tenantId: "sub-tenant" },
    from: { clientId: "env ARM_CLIENT_ID", tenantId: "env AZURESUBSCRIPTION_TENANT_ID" },
  },
  "azurepipelines: a partial set fills only what is set": {
    argv: ["-l", "azurepipelines"],
    env: { AZURESUBSCRIPTION_TENANT_ID: "sub-tenant", AZURESUBSCRIPTION_CLIENT_ID: "" },
    want: { clientId: "", tenantId: "sub-tenant", azurePipelinesServiceConnectionId: "" },
    from: { clientId: "default", tenantId: "env AZURESUBSCRIPTION_TENANT_ID", azurePipelinesServiceConnectionId: "default" },
  },
  "AAD_LOGIN_METHOD=azurepipelines also enables the fallbacks": {
    argv: ["-l", "spn"],
    env: { AAD_LOGIN_METHOD: "azurepipelines", AZURESUBSCRIPTION_CLIENT_ID: "sub-client", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "sub-conn" },
    want: { loginMethod: "azurepipelines", clientId: "sub-client", azurePipelinesServiceConnectionId: "sub-conn" },
  },
  "AZURESUBSCRIPTION_* are not read for other modes": {
    argv: ["-l", "spn"],
    env: { AZURESUBSCRIPTION_CLIENT_ID: "sub-client", AZURESUBSCRIPTION_TENANT_ID: "sub-tenant", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "sub-conn" },
    want: { clientId: "", tenantId: "", azurePipelinesServiceConnectionId: "" },
  },
  "AZURESUBSCRIPTION_* are not read when AAD_LOGIN_METHOD turned azurepipelines into something else": {
    argv: ["-l", "azurepipelines"],
    env: { AAD_LOGIN_METHOD: "workloadidentity", AZURESUBSCRIPTION_CLIENT_ID: "sub-client" },
    want: { loginMethod: "workloadidentity", clientId: "" },
  },

  // ── step 2: --disable-environment-override ──
  "--disable-environment-override turns all of it off": {
    argv: ["--disable-environment-override", "-l", "workloadidentity", "--client-id", "flag-client", "--timeout", "30s"],
    env: {
      AAD_LOGIN_METHOD: "azurepipelines",
      AAD_SERVICE_PRINCIPAL_CLIENT_ID: "aad-client",
      AZURE_CLIENT_ID: "azure-client",
      AZURE_CLIENT_SECRET: "azure-secret",
      AZURE_TENANT_ID: "azure-tenant",
      AZURE_USERNAME: "azure-user",
      AAD_USER_PRINCIPAL_PASSWORD: "aad-pass",
      AZURE_FEDERATED_TOKEN_FILE: "/env/token",
      AZURE_AUTHORITY_HOST: "https://login.example.com/",
      AZURESUBSCRIPTION_TENANT_ID: "sub-tenant",
      AZURE_CLI_TIMEOUT: "5m",
    },
    want: { loginMethod: "workloadidentity", clientId: "flag-client", clientSecret: "", tenantId: "", username: "", password: "", federatedTokenFile: "", authorityHost: "", timeout: 30_000, disableEnvironmentOverride: true },
    from: { loginMethod: "flag --login", clientId: "flag --client-id", clientSecret: "default", timeout: "flag --timeout" },
  },
  "--disable-environment-override with --use-azurerm-env-vars ignores ARM_* too": {
    argv: ["--disable-environment-override", "--use-azurerm-env-vars"],
    env: { ARM_CLIENT_ID: "arm-client", ARM_TENANT_ID: "arm-tenant" },
    want: { clientId: "", tenantId: "" },
  },
  "--disable-environment-override keeps azurepipelines values empty": {
    argv: ["--disable-environment-override", "-l", "azurepipelines"],
    env: { AZURESUBSCRIPTION_CLIENT_ID: "sub-client", AZURESUBSCRIPTION_TENANT_ID: "sub-tenant", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "sub-conn" },
    want: { clientId: "", tenantId: "", azurePipelinesServiceConnectionId: "" },
  },
  "--disable-environment-override=false leaves env on": {
    argv: ["--disable-environment-override=false", "--client-id", "flag-client"],
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_ID: "aad-client" },
    want: { clientId: "aad-client", disableEnvironmentOverride: false },
    from: { clientId: "env AAD_SERVICE_PRINCIPAL_CLIENT_ID (overrode --client-id)", disableEnvironmentOverride: "flag --disable-environment-override" },
  },

  // ── step 9: AZURE_CLI_TIMEOUT ──
  "AZURE_CLI_TIMEOUT beats --timeout": {
    argv: ["--timeout", "30s"],
    env: { AZURE_CLI_TIMEOUT: "2m" },
    want: { timeout: 120_000 },
    from: { timeout: "env AZURE_CLI_TIMEOUT (overrode --timeout)" },
  },
  "AZURE_CLI_TIMEOUT replaces the default": {
    argv: [],
    env: { AZURE_CLI_TIMEOUT: "1m30s" },
    want: { timeout: 90_000 },
    from: { timeout: "env AZURE_CLI_TIMEOUT" },
  },
  "AZURE_CLI_TIMEOUT that does not parse is ignored silently": {
    argv: ["--timeout", "30s"],
    env: { AZURE_CLI_TIMEOUT: "30" },
    want: { timeout: 30_000 },
    from: { timeout: "flag --timeout" },
  },
  "AZURE_CLI_TIMEOUT present but empty is ignored (it does not parse)": {
    argv: [],
    env: { AZURE_CLI_TIMEOUT: "" },
    want: { timeout: 60_000 },
    from: { timeout: "default" },
  },
  "AZURE_CLI_TIMEOUT -1s parses (validation rejects it)": {
    argv: [],
    env: { AZURE_CLI_TIMEOUT: "-1s" },
    want: { timeout: -1_000 },
  },
  "AZURE_CLI_TIMEOUT 0 parses (validation rejects it)": {
    argv: [],
    env: { AZURE_CLI_TIMEOUT: "0" },
    want: { timeout: 0 },
  },

  // ── cache dir and the auth-record file (step 1) ──
  "KUBECACHEDIR is the default cache dir": {
    argv: [],
    env: { KUBECACHEDIR: "/kube/cache" },
    want: { cacheDir: "/kube/cache", authRecordCacheFile: "/kube/cache/auth.json" },
    from: { cacheDir: "env KUBECACHEDIR" },
  },
  "KUBECACHEDIR is honoured even with --disable-environment-override": {
    argv: ["--disable-environment-override"],
    env: { KUBECACHEDIR: "/kube/cache/" },
    want: { cacheDir: "/kube/cache/", authRecordCacheFile: "/kube/cache/auth.json" },
    from: { cacheDir: "env KUBECACHEDIR" },
  },
  "an explicit --cache-dir beats KUBECACHEDIR": {
    argv: ["--cache-dir", "/explicit"],
    env: { KUBECACHEDIR: "/kube/cache" },
    want: { cacheDir: "/explicit", authRecordCacheFile: "/explicit/auth.json" },
    from: { cacheDir: "flag --cache-dir" },
  },
  "an empty KUBECACHEDIR is ignored": {
    argv: [],
    env: { KUBECACHEDIR: "" },
    want: { cacheDir: DEFAULT_CACHE_DIR, authRecordCacheFile: "/home/user/.kube/cache/kubelogin/auth.json" },
    from: { cacheDir: "default" },
  },
  "a cache dir with a trailing slash": {
    argv: ["--cache-dir", "/tmp/foo/"],
    env: {},
    want: { cacheDir: "/tmp/foo/", authRecordCacheFile: "/tmp/foo/auth.json" },
  },
  "a cache dir is cleaned like filepath.Join": {
    argv: ["--cache-dir", "/tmp//foo/./bar/.."],
    env: {},
    want: { cacheDir: "/tmp//foo/./bar/..", authRecordCacheFile: "/tmp/foo/auth.json" },
  },
  "a relative cache dir": {
    argv: ["--cache-dir", "./cache"],
    env: {},
    want: { authRecordCacheFile: "cache/auth.json" },
  },
  "an empty cache dir gives the bare auth.json": {
    argv: ["--cache-dir", ""],
    env: { KUBECACHEDIR: "/kube/cache" },
    want: { cacheDir: "", authRecordCacheFile: "auth.json" },
    from: { cacheDir: "flag --cache-dir" },
  },
  "--token-cache-dir sets the cache dir and is named in the provenance": {
    argv: ["--token-cache-dir", "/old"],
    env: {},
    want: { cacheDir: "/old", authRecordCacheFile: "/old/auth.json" },
    from: { cacheDir: "flag --token-cache-dir" },
  },
  "--token-cache-dir then --cache-dir: the last wins": {
    argv: ["--token-cache-dir", "/old", "--cache-dir", "/new"],
    env: {},
    want: { cacheDir: "/new", authRecordCacheFile: "/new/auth.json" },
    from: { cacheDir: "flag --cache-dir" },
  },
};

describe("resolveOptions: §1.2 precedence", () => {
  test.each(Object.entries(ROWS))("%s", (_name, row) => {
    const { options, provenance } = resolve(row.argv, row.env);
    expect(pick(options, row.want)).toEqual(row.want);
    const described = Object.fromEntries(Object.entries(provenance).map(([key, origin]) => [key, describeOrigin(origin)]));
    if (row.from) expect(pick(described, row.from)).toEqual(row.from);
  });

  test("defaults, in full", () => {
    const { options } = resolve([]);
    expect(options).toEqual({
      loginMethod: "devicecode",
      clientId: "",
      clientSecret: "",
      clientCertificate: "",
      clientCertificatePassword: "",
      username: "",
      password: "",
      identityResourceId: "",
      serverId: "",
      federatedTokenFile: "",
      authorityHost: "",
      azurePipelinesServiceConnectionId: "",
      cacheDir: DEFAULT_CACHE_DIR,
      tenantId: "",
      subscription: "",
      environment: "AzurePublicCloud",
      legacy: false,
      useAzureRmEnvVars: false,
      isPopTokenEnabled: false,
      timeout: 60_000,
      popClaims: "",
      disableEnvironmentOverride: false,
      disableInstanceDiscovery: false,
      redirectUrl: "",
      loginHint: "",
      cacheBackend: "auto",
      authRecordCacheFile: "/home/user/.kube/cache/kubelogin/auth.json",
    } satisfies GetTokenOptions);
  });

  test("every option has a provenance", () => {
    const { provenance } = resolve([]);
    const keys = [...new Set(GET_TOKEN_OPTIONS.map((spec) => spec.key))].sort();
    expect(Object.keys(provenance).sort()).toEqual(keys);
  });

  test("provenance is data: which variable, and which flag it overrode", () => {
    const { provenance } = resolve(["--client-id", "flag-client", "--token-cache-dir", "/old"], { AZURE_CLIENT_ID: "env-client", AZURE_TENANT_ID: "env-tenant" });
    expect(provenance.clientId).toEqual({ kind: "env", name: "AZURE_CLIENT_ID", overrode: "--client-id" });
    expect(provenance.tenantId).toEqual({ kind: "env", name: "AZURE_TENANT_ID" });
    expect(provenance.cacheDir).toEqual({ kind: "flag", flag: "--token-cache-dir" });
    expect(provenance.serverId).toEqual({ kind: "default" });
  });

  test("the environment is only read, never written", () => {
    const env = Object.freeze({ AZURE_CLIENT_ID: "x", AAD_LOGIN_METHOD: "azurepipelines", AZURESUBSCRIPTION_TENANT_ID: "t" });
    expect(() => resolve([], env)).not.toThrow();
    expect(env).toEqual({ AZURE_CLIENT_ID: "x", AAD_LOGIN_METHOD: "azurepipelines", AZURESUBSCRIPTION_TENANT_ID: "t" });
  });
});

describe("parsed flags without setBy", () => {
  test("a changed flag's origin is the row's own long flag", () => {
    const flags = { values: { clientId: "x" }, changed: new Set(["clientId"]), deprecations: [], positionals: [], help: false };
    const { options, provenance } = resolveOptions(flags, {}, HOME);
    expect(options.clientId).toBe("x");
    expect(provenance.clientId).toEqual({ kind: "flag", flag: "--client-id" });
  });
});

describe("secretValues", () => {
  test("are the values of the rows the table marks secret, wherever they came from", () => {
    const { options } = resolve(["--client-secret", "flag-secret", "--password", "flag-password", "--client-id", "not-secret"], { AZURE_CLIENT_CERTIFICATE_PASSWORD: "env-pfx" });
    expect(secretValues(options).sort()).toEqual(["env-pfx", "flag-password", "flag-secret"]);
    const marked = GET_TOKEN_OPTIONS.filter((spec) => "secret" in spec).map((spec) => spec.key);
    expect(marked).toEqual(["clientSecret", "clientCertificatePassword", "password"]);
  });
});

describe("describeOptions", () => {
  // Made inside each test, not while collecting: a resolve that throws must fail tests, not the suite
  // (StrykerJS's vitest runner counts a suite that fails to collect as no failing test).
  const describeLine = (): string =>
    describeOptions(
      resolve(
        ["-l", "spn", "--client-id", "flag-client", "--client-secret", "flag-secret-value", "--server-id", "srv", "--timeout", "90s"],
        { AZURE_CLIENT_CERTIFICATE_PASSWORD: "env-pfx-password", AAD_USER_PRINCIPAL_PASSWORD: "env-user-password", AZURE_CLIENT_ID: "env-client" },
      ),
    );

  test.each(["flag-secret-value", "env-pfx-password", "env-user-password"])("never shows the secret %s", (secret) => {
    expect(describeLine()).not.toContain(secret);
  });

  test("masks set secrets, shows unset ones as empty, and names every source", () => {
    const line = describeLine();
    // Fields in table order, each the long flag's name without dashes, separated by one space.
    expect(line).toMatch(/^login="spn" \[flag --login\] client-id="env-client" \[env AZURE_CLIENT_ID \(overrode --client-id\)\] client-secret=\*\*\* /);
    expect(line).toMatch(/ auth-record-file="\/home\/user\/\.kube\/cache\/kubelogin\/auth\.json"$/);
    expect(line).toContain('client-secret=*** [flag --client-secret]');
    expect(line).toContain('client-certificate-password=*** [env AZURE_CLIENT_CERTIFICATE_PASSWORD]');
    expect(line).toContain('password=*** [env AAD_USER_PRINCIPAL_PASSWORD]');
    expect(line).toContain('client-id="env-client" [env AZURE_CLIENT_ID (overrode --client-id)]');
    expect(line).toContain('login="spn" [flag --login]');
    expect(line).toContain('timeout=1m30s [flag --timeout]');
    expect(line).toContain('legacy=false [default]');
    expect(line).toContain('cache-dir="/home/user/.kube/cache/kubelogin/" [default]');
    expect(line).toContain('auth-record-file="/home/user/.kube/cache/kubelogin/auth.json"');
    expect(line).not.toContain("token-cache-dir");
  });

  test("an unset secret is shown as empty", () => {
    expect(describeOptions(resolve([]))).toContain('client-secret="" [default]');
  });
});

describe("envNamesFor", () => {
  const base = { loginMethod: "spn", useAzureRmEnvVars: false };
  test.each<[Parameters<typeof envNamesFor>[0], Parameters<typeof envNamesFor>[1], string[]]>([
    ["clientId", base, ["AZURE_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_ID"]],
    ["clientId", { ...base, useAzureRmEnvVars: true }, ["ARM_CLIENT_ID"]],
    ["clientId", { ...base, loginMethod: "workloadidentity" }, ["AZURE_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_ID"]],
    ["clientId", { loginMethod: "workloadidentity", useAzureRmEnvVars: true }, ["AZURE_CLIENT_ID", "ARM_CLIENT_ID"]],
    ["clientId", { ...base, loginMethod: "azurepipelines" }, ["AZURE_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AZURESUBSCRIPTION_CLIENT_ID"]],
    ["clientSecret", base, ["AZURE_CLIENT_SECRET", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"]],
    ["clientSecret", { ...base, useAzureRmEnvVars: true }, ["ARM_CLIENT_SECRET"]],
    ["clientCertificate", base, ["AZURE_CLIENT_CERTIFICATE_PATH", "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE"]],
    ["tenantId", base, ["AZURE_TENANT_ID"]],
    ["tenantId", { ...base, useAzureRmEnvVars: true }, ["ARM_TENANT_ID"]],
    ["tenantId", { ...base, loginMethod: "azurepipelines" }, ["AZURE_TENANT_ID", "AZURESUBSCRIPTION_TENANT_ID"]],
    ["username", { ...base, useAzureRmEnvVars: true }, ["AZURE_USERNAME", "AAD_USER_PRINCIPAL_NAME"]],
    ["password", base, ["AZURE_PASSWORD", "AAD_USER_PRINCIPAL_PASSWORD"]],
    ["federatedTokenFile", base, []],
    ["federatedTokenFile", { ...base, loginMethod: "workloadidentity" }, ["AZURE_FEDERATED_TOKEN_FILE"]],
    ["authorityHost", { ...base, loginMethod: "workloadidentity" }, ["AZURE_AUTHORITY_HOST"]],
    ["azurePipelinesServiceConnectionId", { ...base, loginMethod: "azurepipelines" }, ["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"]],
    ["loginMethod", base, ["AAD_LOGIN_METHOD"]],
    ["timeout", base, ["AZURE_CLI_TIMEOUT"]],
    ["serverId", base, []],
    ["cacheDir", base, []],
    ["clientId", { ...base, disableEnvironmentOverride: true }, []],
    ["clientId", { ...base, disableEnvironmentOverride: false }, ["AZURE_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_ID"]],
  ])("%s for %j → %j", (key, options, names) => {
    expect(envNamesFor(key, options)).toEqual(names);
  });

  test("accepts resolved options directly", () => {
    const { options } = resolve(["--disable-environment-override", "-l", "spn"]);
    expect(envNamesFor("clientId", options)).toEqual([]);
  });
});
