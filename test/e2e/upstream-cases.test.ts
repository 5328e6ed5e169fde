// Azure/kubelogin's own unit tests of its options and credential factory, run against the built
// CLI: each row is one case of upstream's pkg/internal/token/options_test.go or provider_test.go
// (named by file:line), turned into flags and environment in, exit code and `Error:` line out.
// Upstream's valid cases must get past validation and fail only at the network step: every
// request goes to a proxy that refuses connections, so nothing leaves the machine and the error
// names the host the request was for. Cases that only call an internal Go function with no
// command-line equivalent (GetPoPTokenCache, options_test.go:717 and :730) have no row.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KUBELOGIN_BIN, runProcess } from "../support/local-stack.js";
import { refusingPort, type RefusingPort } from "../support/refusing-port.js";

interface UpstreamCase {
  /** Upstream's test file and the line of the case. */
  readonly source: `${"options_test.go" | "provider_test.go"}:${number}`;
  readonly name: string;
  /** `$HOME` is the test's home directory. */
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** The first stderr line, given the proxy URL every request goes through. */
  readonly error: (proxy: string) => string;
  /** What upstream's test reads from Options, as `-v 5`'s options line shows it. */
  readonly options?: readonly string[];
}

const PIPELINES_ENV = { SYSTEM_ACCESSTOKEN: "test-token", SYSTEM_OIDCREQUESTURI: "https://test.oidc.request.uri" };
const PROVIDER_PIPELINES_ENV = { SYSTEM_ACCESSTOKEN: "test-system-access-token", SYSTEM_OIDCREQUESTURI: "https://test.oidc.request.uri" };
const DEVICE_CODE = ["--server-id", "server-id", "--client-id", "client-id", "--tenant-id", "tenant-id"];
const PROVIDER = ["--server-id", "server-id", "--tenant-id", "tenant-id"];
const MODES = "devicecode, interactive, spn, ropc, msi, azurecli, azd, workloadidentity, azurepipelines";
const POP_PARSE = "Ensure the claims are formatted as `key=value` with no extra whitespace";

/** The step after validation: the first request, refused by the proxy. */
const unreachable =
  (prefix: string, host = "https://login.microsoftonline.com", service = "the identity provider") =>
  (proxy: string): string =>
    `Error: ${prefix}could not reach ${service} at ${host} through the proxy ${proxy}: ECONNREFUSED`;
const signIn = (host?: string) => unreachable("failed to authenticate: ", host);
const pipelines = unreachable("failed to get token: couldn't send OIDC token request: ", "https://test.oidc.request.uri", "the Azure Pipelines OIDC endpoint");
const fixed = (text: string) => (): string => `Error: ${text}`;
const PIPELINES_NO_TENANT = fixed(
      "failed to create azidentity credential: failed to create azure pipelines credential: invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names",
    );
const popParse = (text: string) => fixed(`failed to create azidentity credential: unable to parse PoP claims: ${text}`);

const CASES: readonly UpstreamCase[] = [
  // options_test.go: TestOptions
  { source: "options_test.go:18", name: "default options pass validation", argv: DEVICE_CODE, error: signIn() },
  { source: "options_test.go:32", name: "a custom cache dir passes validation", argv: [...DEVICE_CODE, "--cache-dir", "$HOME/foo/"], error: signIn() },
  { source: "options_test.go:46", name: "an unsupported login method", argv: ["--server-id", "server-id", "--login", "unsupported"], error: fixed(`'unsupported' is not a supported login method. Supported method is one of ${MODES}`) },
  {
    source: "options_test.go:54",
    name: "--pop-enabled without --pop-claims",
    argv: [...DEVICE_CODE, "--pop-enabled"],
    error: fixed("if enabling pop token mode, please provide the pop-claims flag containing the PoP token claims as a comma-separated string: `u=popClaimHost,key1=val1`"),
  },
  {
    source: "options_test.go:62",
    name: "--pop-claims without --pop-enabled",
    argv: [...DEVICE_CODE, "--pop-claims", "u=testhost"],
    error: fixed("pop-enabled flag is required to use the PoP token feature. Please provide both pop-enabled and pop-claims flags"),
  },
  { source: "options_test.go:70", name: "an invalid authority host", argv: [...DEVICE_CODE, "--authority-host", "invalid"], error: fixed('authority host "invalid" is not valid: parse "invalid": invalid URI for request') },
  { source: "options_test.go:78", name: "an authority host is the cloud's login host", argv: [...DEVICE_CODE, "--authority-host", "https://login.example.com/"], error: signIn("https://login.example.com") },
  { source: "options_test.go:90", name: "the default cloud is public Azure", argv: DEVICE_CODE, error: signIn("https://login.microsoftonline.com") },
  { source: "options_test.go:102", name: "a timeout of 0", argv: [...DEVICE_CODE, "--timeout", "0"], error: fixed("timeout must be greater than 0") },
  { source: "options_test.go:110", name: "valid PoP claims pass validation", argv: [...DEVICE_CODE, "--pop-enabled", "--pop-claims", "u=testhost"], error: signIn() },
  // options_test.go: azurepipelines login method validation
  {
    source: "options_test.go:128",
    name: "azurepipelines with every parameter",
    argv: ["--server-id", "server-id", "--login", "azurepipelines", "--tenant-id", "test-tenant", "--client-id", "test-client", "--azure-pipelines-service-connection-id", "test-service-connection"],
    env: PIPELINES_ENV,
    error: pipelines,
  },
  {
    source: "options_test.go:144",
    name: "azurepipelines takes the tenant from AZURESUBSCRIPTION_TENANT_ID",
    argv: ["--server-id", "server-id", "--login", "azurepipelines", "--client-id", "test-client", "--azure-pipelines-service-connection-id", "test-service-connection", "-v", "5"],
    env: { ...PIPELINES_ENV, AZURESUBSCRIPTION_TENANT_ID: "env-tenant-id" },
    error: pipelines,
    options: ['tenant-id="env-tenant-id" [env AZURESUBSCRIPTION_TENANT_ID]'],
  },
  {
    source: "options_test.go:160",
    name: "azurepipelines takes the service connection from AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
    argv: ["--server-id", "server-id", "--login", "azurepipelines", "--tenant-id", "test-tenant", "--client-id", "test-client", "-v", "5"],
    env: { ...PIPELINES_ENV, AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "env-service-connection" },
    error: pipelines,
    options: ['azure-pipelines-service-connection-id="env-service-connection" [env AZURESUBSCRIPTION_SERVICE_CONNECTION_ID]'],
  },
  // options_test.go: TestOptionsSubscriptionFlag
  { source: "options_test.go:230", name: "--subscription", argv: [...DEVICE_CODE, "--subscription", "test-subscription", "-v", "5"], error: signIn(), options: ['subscription="test-subscription" [flag --subscription]'] },
  { source: "options_test.go:243", name: "-s", argv: [...DEVICE_CODE, "-s", "test-subscription", "-v", "5"], error: signIn(), options: ['subscription="test-subscription" [flag --subscription]'] },
  // options_test.go: TestOptionsWithEnvVars
  {
    source: "options_test.go:282",
    name: "the legacy AAD_* variables",
    argv: ["--server-id", "server-id", "-v", "5"],
    env: {
      AAD_SERVICE_PRINCIPAL_CLIENT_ID: "clientID",
      AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: "clientSecret",
      AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE: "certPath",
      AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD: "password",
      AAD_USER_PRINCIPAL_NAME: "username",
      AAD_USER_PRINCIPAL_PASSWORD: "password",
      AZURE_TENANT_ID: "tenantID",
      AAD_LOGIN_METHOD: "devicecode",
    },
    error: signIn(),
    options: [
      'login="devicecode" [env AAD_LOGIN_METHOD]',
      'client-id="clientID" [env AAD_SERVICE_PRINCIPAL_CLIENT_ID]',
      'client-certificate="certPath" [env AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE]',
      'username="username" [env AAD_USER_PRINCIPAL_NAME]',
      'tenant-id="tenantID" [env AZURE_TENANT_ID]',
    ],
  },
  {
    source: "options_test.go:307",
    name: "Terraform's ARM_* variables with --use-azurerm-env-vars",
    argv: ["--server-id", "server-id", "--use-azurerm-env-vars", "-v", "5"],
    env: {
      ARM_CLIENT_ID: "clientID",
      ARM_CLIENT_SECRET: "clientSecret",
      ARM_CLIENT_CERTIFICATE_PATH: "certPath",
      ARM_CLIENT_CERTIFICATE_PASSWORD: "password",
      ARM_TENANT_ID: "tenantID",
      AAD_LOGIN_METHOD: "devicecode",
    },
    error: signIn(),
    options: ['client-id="clientID" [env ARM_CLIENT_ID]', 'client-certificate="certPath" [env ARM_CLIENT_CERTIFICATE_PATH]', 'tenant-id="tenantID" [env ARM_TENANT_ID]'],
  },
  {
    source: "options_test.go:330",
    name: "the Azure SDK's AZURE_* variables (its authority host is not a URL)",
    argv: ["--server-id", "server-id"],
    env: {
      AZURE_CLIENT_ID: "clientID",
      AZURE_CLIENT_SECRET: "clientSecret",
      AZURE_CLIENT_CERTIFICATE_PATH: "certPath",
      AZURE_CLIENT_CERTIFICATE_PASSWORD: "password",
      AZURE_USERNAME: "username",
      AZURE_PASSWORD: "password",
      AZURE_TENANT_ID: "tenantID",
      AAD_LOGIN_METHOD: "workloadidentity",
      AZURE_FEDERATED_TOKEN_FILE: "tokenFile",
      AZURE_AUTHORITY_HOST: "authorityHost",
    },
    error: fixed('authority host "authorityHost" is not valid: parse "authorityHost": invalid URI for request'),
  },
  // options_test.go: TestParsePoPClaims (through spn, whose PoP credential parses them)
  ...(
    [
      [391, "whitespace only", "\t    ", popParse("failed to parse PoP token claims: no claims provided")],
      [397, "not key=value", "claim1=val1,claim2", popParse(`failed to parse PoP token claims. ${POP_PARSE}`)],
      [403, "a malformed value", "claim1=  ", popParse(`failed to parse PoP token claims. ${POP_PARSE}`)],
      [409, "commas only", ",,,,,,,,", popParse(`failed to parse PoP token claims. ${POP_PARSE}`)],
      [415, "no u-claim", "1=2,3=4", popParse("required u-claim not provided for PoP token flow. Please provide the ARM ID of the cluster in the format `u=<ARM_ID>`")],
      [
        421,
        "a u-claim and more",
        "u=val1, claim2=val2, claim3=val3",
        unreachable("failed to get token: failed to create PoP token using client secret credential: failed to create service principal PoP token using credential: "),
      ],
    ] as const
  ).map(
    ([line, name, claims, error]): UpstreamCase => ({
      source: `options_test.go:${line}`,
      name: `PoP claims: ${name}`,
      argv: [...PROVIDER, "--login", "spn", "--client-id", "client-id", "--client-secret", "secret", "--pop-enabled", "--pop-claims", claims],
      error,
    }),
  ),
  {
    source: "options_test.go:385",
    name: "PoP claims: empty (refused before parsing, as upstream's Validate does)",
    argv: [...PROVIDER, "--login", "spn", "--client-id", "client-id", "--client-secret", "secret", "--pop-enabled", "--pop-claims", ""],
    error: fixed("if enabling pop token mode, please provide the pop-claims flag containing the PoP token claims as a comma-separated string: `u=popClaimHost,key1=val1`"),
  },
  // options_test.go: TestDisableEnvironmentOverride
  {
    source: "options_test.go:452",
    name: "--disable-environment-override keeps the flag",
    argv: [...PROVIDER, "--client-id", "client-id from options", "--disable-environment-override", "-v", "5"],
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_ID: "client-id from env" },
    error: signIn(),
    options: ['client-id="client-id from options" [flag --client-id]'],
  },
  {
    source: "options_test.go:462",
    name: "without it the environment wins",
    argv: [...PROVIDER, "--client-id", "client-id from options", "-v", "5"],
    env: { AAD_SERVICE_PRINCIPAL_CLIENT_ID: "client-id from env" },
    error: signIn(),
    options: ['client-id="client-id from env" [env AAD_SERVICE_PRINCIPAL_CLIENT_ID (overrode --client-id)]'],
  },
  // options_test.go: TestAzurePipelinesEnvironmentVariables
  {
    source: "options_test.go:480",
    name: "AZURESUBSCRIPTION_* are read for azurepipelines",
    argv: ["--server-id", "server-id", "--login", "azurepipelines", "-v", "5"],
    env: { ...PIPELINES_ENV, AZURESUBSCRIPTION_CLIENT_ID: "test-client-id", AZURESUBSCRIPTION_TENANT_ID: "test-tenant-id", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "test-service-connection-id" },
    error: pipelines,
    options: [
      'client-id="test-client-id" [env AZURESUBSCRIPTION_CLIENT_ID]',
      'tenant-id="test-tenant-id" [env AZURESUBSCRIPTION_TENANT_ID]',
      'azure-pipelines-service-connection-id="test-service-connection-id" [env AZURESUBSCRIPTION_SERVICE_CONNECTION_ID]',
    ],
  },
  {
    source: "options_test.go:499",
    name: "AZURESUBSCRIPTION_* are not read for another login",
    argv: ["--server-id", "server-id", "--login", "devicecode"],
    env: { AZURESUBSCRIPTION_CLIENT_ID: "test-client-id", AZURESUBSCRIPTION_TENANT_ID: "test-tenant-id", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "test-service-connection-id" },
    error: fixed("failed to create azidentity credential: client ID cannot be empty"),
  },
  {
    source: "options_test.go:518",
    name: "flags beat AZURESUBSCRIPTION_*",
    argv: ["--server-id", "server-id", "--login", "azurepipelines", "--client-id", "flag-client-id", "--tenant-id", "flag-tenant-id", "--azure-pipelines-service-connection-id", "flag-service-connection-id", "-v", "5"],
    env: { ...PIPELINES_ENV, AZURESUBSCRIPTION_CLIENT_ID: "env-client-id", AZURESUBSCRIPTION_TENANT_ID: "env-tenant-id", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "env-service-connection-id" },
    error: pipelines,
    options: [
      'client-id="flag-client-id" [flag --client-id]',
      'tenant-id="flag-tenant-id" [flag --tenant-id]',
      'azure-pipelines-service-connection-id="flag-service-connection-id" [flag --azure-pipelines-service-connection-id]',
    ],
  },
  {
    source: "options_test.go:543",
    name: "AZURESUBSCRIPTION_* are not read with --disable-environment-override",
    argv: ["--server-id", "server-id", "--login", "azurepipelines", "--disable-environment-override", "-v", "5"],
    env: { ...PIPELINES_ENV, AZURESUBSCRIPTION_CLIENT_ID: "test-client-id", AZURESUBSCRIPTION_TENANT_ID: "test-tenant-id", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "test-service-connection-id" },
    error: PIPELINES_NO_TENANT,
    options: ['client-id="" [default]', 'tenant-id="" [default]', 'azure-pipelines-service-connection-id="" [default]'],
  },
  {
    source: "options_test.go:565",
    name: "AAD_LOGIN_METHOD=azurepipelines, then AZURESUBSCRIPTION_* are read",
    argv: ["--server-id", "server-id", "-v", "5"],
    env: { ...PIPELINES_ENV, AAD_LOGIN_METHOD: "azurepipelines", AZURESUBSCRIPTION_CLIENT_ID: "test-client-id", AZURESUBSCRIPTION_TENANT_ID: "test-tenant-id", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "test-service-connection-id" },
    error: pipelines,
    options: ['login="azurepipelines" [env AAD_LOGIN_METHOD]', 'client-id="test-client-id" [env AZURESUBSCRIPTION_CLIENT_ID]'],
  },
  {
    source: "options_test.go:588",
    name: "AZURESUBSCRIPTION_* partly set",
    argv: ["--server-id", "server-id", "--login", "azurepipelines", "-v", "5"],
    env: { ...PIPELINES_ENV, AZURESUBSCRIPTION_CLIENT_ID: "test-client-id" },
    error: PIPELINES_NO_TENANT,
    options: ['client-id="test-client-id" [env AZURESUBSCRIPTION_CLIENT_ID]', 'tenant-id="" [default]', 'azure-pipelines-service-connection-id="" [default]'],
  },
  // options_test.go: TestGetCloudConfiguration
  ...(
    [
      [615, "AZURECLOUD", "https://login.microsoftonline.com"],
      [620, "AZUREPUBLIC", "https://login.microsoftonline.com"],
      [625, "AZUREPUBLICCLOUD", "https://login.microsoftonline.com"],
      [630, "AZUREUSGOVERNMENT", "https://login.microsoftonline.us"],
      [635, "AZUREUSGOVERNMENTCLOUD", "https://login.microsoftonline.us"],
      [640, "AZURECHINACLOUD", "https://login.chinacloudapi.cn"],
    ] as const
  ).map(([line, environment, host]): UpstreamCase => ({ source: `options_test.go:${line}`, name: `--environment ${environment}`, argv: [...DEVICE_CODE, "--environment", environment], error: signIn(host) })),
  {
    source: "options_test.go:645",
    name: "a custom authority host beats --environment",
    argv: [...DEVICE_CODE, "--environment", "AZURECLOUD", "--authority-host", "https://custom.authority.com/"],
    error: signIn("https://custom.authority.com"),
  },
  // options_test.go: TestAuthorityHostValidation
  { source: "options_test.go:673", name: "an authority host with a trailing slash", argv: [...DEVICE_CODE, "--authority-host", "https://login.example.com/"], error: signIn("https://login.example.com") },
  { source: "options_test.go:678", name: "an authority host without a trailing slash", argv: [...DEVICE_CODE, "--authority-host", "https://login.example.com"], error: fixed('authority host "https://login.example.com" should have a trailing slash') },
  { source: "options_test.go:683", name: "an authority host without a scheme", argv: [...DEVICE_CODE, "--authority-host", "login.example.com/"], error: fixed('authority host "login.example.com/" is not valid: parse "login.example.com/": invalid URI for request') },
  {
    source: "options_test.go:688",
    name: "a malformed authority host",
    argv: [...DEVICE_CODE, "--authority-host", "https://login example.com/"],
    error: fixed('authority host "https://login example.com/" is not valid: parse "https://login example.com/": invalid character " " in host name'),
  },
  { source: "options_test.go:693", name: "an empty authority host", argv: [...DEVICE_CODE, "--authority-host", ""], error: signIn() },
  // provider_test.go: TestNewAzIdentityCredential (SYSTEM_ACCESSTOKEN and SYSTEM_OIDCREQUESTURI set for every case)
  { source: "provider_test.go:30", name: "Azure CLI login", argv: [...PROVIDER, "--login", "azurecli"], env: PROVIDER_PIPELINES_ENV, error: fixed("failed to get token: AzureCLICredential: Azure CLI not found on path") },
  { source: "provider_test.go:39", name: "device code login", argv: [...PROVIDER, "--login", "devicecode", "--client-id", "client-id"], env: PROVIDER_PIPELINES_ENV, error: signIn() },
  {
    source: "provider_test.go:49",
    name: "legacy device code login",
    argv: [...PROVIDER, "--login", "devicecode", "--client-id", "client-id", "--legacy"],
    env: PROVIDER_PIPELINES_ENV,
    error: unreachable("failed to get token: initialing the device code authentication: "),
  },
  // MSAL knows the public cloud's endpoints and would go straight to the browser: a custom
  // authority host makes the interactive credential's first step a request.
  {
    source: "provider_test.go:60",
    name: "interactive login with PoP",
    argv: [...PROVIDER, "--login", "interactive", "--client-id", "client-id", "--pop-enabled", "--pop-claims", "u=test-cluster", "--authority-host", "https://login.example.com/"],
    env: { ...PROVIDER_PIPELINES_ENV, BROWSER: "false" },
    error: unreachable("failed to get token: failed to create PoP token using interactive login: failed to create PoP token with interactive flow: ", "https://login.example.com"),
  },
  // IMDS (at AZURE_POD_IDENTITY_AUTHORITY_HOST, the refusing port) is retried for a minute, as
  // azidentity's policy does; a short --timeout leaves no room for a retry, so the refusal itself
  // is the error.
  {
    source: "provider_test.go:72",
    name: "MSI login",
    argv: ["--server-id", "server-id", "--login", "msi", "--timeout", "3s"],
    env: PROVIDER_PIPELINES_ENV,
    error: (proxy) => `Error: failed to get token: could not reach IMDS at ${proxy}: ECONNREFUSED`,
  },
  {
    source: "provider_test.go:80",
    name: "service principal with a client certificate and PoP",
    argv: [...PROVIDER, "--login", "spn", "--client-id", "client-id", "--client-certificate", "fixtures/cert.pem", "--pop-enabled", "--pop-claims", "u=test-cluster"],
    env: PROVIDER_PIPELINES_ENV,
    error: fixed("failed to create azidentity credential: failed to read certificate: failed to read the certificate file (fixtures/cert.pem): open fixtures/cert.pem: no such file or directory"),
  },
  {
    source: "provider_test.go:93",
    name: "service principal with a client secret",
    argv: [...PROVIDER, "--login", "spn", "--client-id", "client-id", "--client-secret", "secret"],
    env: PROVIDER_PIPELINES_ENV,
    error: unreachable("failed to get token: "),
  },
  {
    source: "provider_test.go:104",
    name: "an unsupported login method",
    argv: ["--server-id", "server-id", "--login", "unsupported"],
    env: PROVIDER_PIPELINES_ENV,
    error: fixed(`'unsupported' is not a supported login method. Supported method is one of ${MODES}`),
  },
  {
    source: "provider_test.go:113",
    name: "Azure Pipelines login",
    argv: [...PROVIDER, "--login", "azurepipelines", "--client-id", "client-id", "--azure-pipelines-service-connection-id", "service-connection-id"],
    env: PROVIDER_PIPELINES_ENV,
    error: pipelines,
  },
  // provider_test.go: TestNewAzIdentityCredentialWithWorkloadIdentity
  {
    source: "provider_test.go:159",
    name: "GitHub Actions workload identity",
    argv: [...PROVIDER, "--login", "workloadidentity", "--client-id", "client-id"],
    env: { ACTIONS_ID_TOKEN_REQUEST_TOKEN: "token", ACTIONS_ID_TOKEN_REQUEST_URL: "url" },
    // Go's url.Parse takes "url" as a relative reference, so the request itself fails.
    error: fixed('failed to get token: Get "url?audience=api%3A%2F%2FAzureADTokenExchange": unsupported protocol scheme ""'),
  },
];

let proxy: RefusingPort;
let home: string;
beforeAll(async () => {
  proxy = await refusingPort();
  home = await mkdtemp(join(tmpdir(), "kubelogin-upstream-cases-"));
});
afterAll(async () => {
  await proxy.close();
  await rm(home, { recursive: true, force: true });
});

describe("upstream's options_test.go and provider_test.go, through the command line", () => {
  for (const row of CASES) {
    it(`${row.source} ${row.name}`, async () => {
      const proxyUrl = `http://127.0.0.1:${proxy.port}`;
      const env = {
        PATH: "/usr/bin:/bin",
        HOME: home,
        HTTPS_PROXY: proxyUrl,
        HTTP_PROXY: proxyUrl,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: proxyUrl,
        KUBELOGIN_CACHE_BACKEND: "file",
        ...row.env,
      };
      const cacheDir = await mkdtemp(join(home, "cache-"));
      const argv = row.argv.map((arg) => arg.replaceAll("$HOME", home));
      const result = await runProcess(process.execPath, [KUBELOGIN_BIN, "get-token", "--cache-dir", cacheDir, ...argv], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      const lines = result.stderr.split("\n");
      expect(lines.find((line) => line.startsWith("Error:"))).toBe(row.error(proxyUrl));
      if (row.options) {
        const options = lines.find((line) => line.includes("kubelogin] options: "));
        for (const shown of row.options) expect(options).toContain(shown);
      }
    });
  }
});
