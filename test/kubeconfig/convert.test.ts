// The converter's rules (compat spec §5.2–§5.4) as one table: every target mode, auth-provider
// input with each config-mode, kubelogin exec input with each spelling and argument combination,
// flag and env overrides, PoP pairs, cache-dir carry-over, and every error text.
import { describe, expect, test } from "vitest";
import { ConvertError, convertKubeconfig, execArg, type ConvertRequest } from "../../src/kubeconfig/convert.js";
import { parseKubeconfig, type ExecConfig, type KubeconfigDoc, type YamlMap } from "../../src/kubeconfig/model.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions, type Env } from "../../src/options/resolve.js";
import { CONVERT_ONLY_OPTIONS, GET_TOKEN_OPTIONS, GLOBAL_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";

const SERVER = "6dae42f8-4368-4678-94ff-3960e28e3630";
const CLIENT = "80faf920-1908-4b52-b5ef-a8e7bedfc67a";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const V1BETA1 = "client.authentication.k8s.io/v1beta1";
const INSTALL_HINT = [
  "",
  "kubelogin is not installed which is required to connect to AAD enabled cluster.",
  "",
  "To learn more, please go to https://azure.github.io/kubelogin/",
  "",
].join("\n");

/** What convert-kubeconfig does with argv and env before converting: parse, env overrides, validate. */
function request(flags: readonly string[], env: Env = {}): ConvertRequest {
  const parsed = parseFlags(flags, [...GET_TOKEN_OPTIONS, ...CONVERT_ONLY_OPTIONS, ...GLOBAL_OPTIONS]);
  const resolved = resolveOptions(parsed, env, "/home/test");
  validateOptions(resolved.options, resolved.provenance);
  return {
    options: resolved.options,
    changed: parsed.changed,
    provenance: resolved.provenance,
    context: String(parsed.values.context ?? ""),
    azureConfigDir: String(parsed.values.azureConfigDir ?? ""),
  };
}

/** `users[].user` with the legacy azure auth-provider; `undefined` removes a config key. */
function azureProvider(config: Record<string, string | undefined> = {}): YamlMap {
  const merged: Record<string, string | undefined> = {
    "apiserver-id": SERVER,
    "client-id": CLIENT,
    "tenant-id": TENANT,
    environment: "AzurePublicCloud",
    "access-token": "stale-access-token",
    "refresh-token": "stale-refresh-token",
    "expires-on": "1700000000",
    ...config,
  };
  return { "auth-provider": { name: "azure", config: Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) } };
}

/** What `az aks get-credentials` writes for an AAD cluster, before kubelogin touches it. */
const AKS_ARGS = ["get-token", "--environment", "AzurePublicCloud", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--login", "devicecode"];

function kubeloginExec(args: readonly string[], fields: YamlMap = {}): YamlMap {
  return { exec: { apiVersion: V1BETA1, args: [...args], command: "kubelogin", env: null, installHint: "custom hint", interactiveMode: "IfAvailable", provideClusterInfo: false, ...fields } };
}

const withoutHint = (args: readonly string[], fields: YamlMap = {}): YamlMap => {
  const user = kubeloginExec(args, fields);
  delete (user.exec as YamlMap).installHint;
  return user;
};

const g = (mode: string, ...rest: string[]): string[] => ["get-token", "--login", mode, ...rest];

interface Row {
  name: string;
  user: YamlMap;
  flags?: string[];
  env?: Env;
  /** Expected args of the written stanza. */
  want?: string[];
  wantEnv?: ExecConfig["env"];
  wantHint?: string;
  /** Expected ConvertError / KubeconfigError message. */
  error?: string;
  /** The user must not be converted at all. */
  untouched?: true;
}

const rows: Row[] = [
  // ── which users are converted (§5.2) ──
  { name: "oidc auth-provider is left alone", user: { "auth-provider": { name: "oidc", config: { "client-id": "x" } } }, untouched: true },
  { name: "exec of another plugin is left alone", user: { exec: { apiVersion: V1BETA1, command: "aws", args: ["eks", "get-token"] } }, untouched: true },
  { name: "token user is left alone", user: { token: "abc" }, untouched: true },
  { name: "client certificate user is left alone", user: { "client-certificate-data": "Y2VydA==", "client-key-data": "a2V5" }, untouched: true },
  { name: "exec path /usr/local/bin/kubelogin matches", user: withoutHint(AKS_ARGS, { command: "/usr/local/bin/kubelogin" }), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud"), wantHint: INSTALL_HINT },
  { name: "exec path C:\\tools\\kubelogin.exe matches", user: kubeloginExec(AKS_ARGS, { command: "C:\\tools\\kubelogin.exe" }), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "exec command KubeLogin matches case-insensitively", user: kubeloginExec(AKS_ARGS, { command: "KubeLogin" }), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "exec command kubectl-kubelogin matches", user: kubeloginExec(AKS_ARGS, { command: "kubectl-kubelogin" }), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },

  // ── devicecode (the default target) ──
  { name: "devicecode ← auth-provider without config-mode is legacy", user: azureProvider(), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--legacy"), wantHint: INSTALL_HINT },
  { name: "devicecode ← auth-provider config-mode 0 is legacy", user: azureProvider({ "config-mode": "0" }), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--legacy") },
  { name: "devicecode ← auth-provider config-mode 1 is not legacy", user: azureProvider({ "config-mode": "1" }), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "devicecode ← auth-provider config-mode 1 plus --legacy", user: azureProvider({ "config-mode": "1" }), flags: ["--legacy"], want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--legacy") },
  { name: "devicecode ← --legacy=false does not cancel config-mode 0", user: azureProvider({ "config-mode": "0" }), flags: ["--legacy=false"], want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--legacy") },
  { name: "devicecode ← auth-provider without environment writes none", user: azureProvider({ "config-mode": "1", environment: undefined }), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT) },
  {
    name: "devicecode ← flags override every auth-provider value",
    user: azureProvider({ "config-mode": "1" }),
    flags: ["--server-id", "flag-server", "--client-id", "flag-client", "-t", "flag-tenant", "-e", "AzureChinaCloud"],
    want: g("devicecode", "--server-id", "flag-server", "--client-id", "flag-client", "--tenant-id", "flag-tenant", "--environment", "AzureChinaCloud"),
  },
  { name: "devicecode ← exec from az aks get-credentials", user: kubeloginExec(AKS_ARGS), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud"), wantHint: "custom hint" },
  { name: "devicecode ← exec with bare --legacy", user: kubeloginExec([...AKS_ARGS, "--legacy"]), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--legacy") },
  { name: "devicecode ← exec --legacy=true is not recognised", user: kubeloginExec([...AKS_ARGS, "--legacy=true"]), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "devicecode ← exec flag values override exec args", user: kubeloginExec(AKS_ARGS), flags: ["--client-id", "flag-client", "--tenant-id", "flag-tenant"], want: g("devicecode", "--server-id", SERVER, "--client-id", "flag-client", "--tenant-id", "flag-tenant", "--environment", "AzurePublicCloud") },
  { name: "devicecode ← -e flag overrides exec environment", user: kubeloginExec(AKS_ARGS), flags: ["-e", "AzureUSGovernmentCloud"], want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzureUSGovernmentCloud") },
  { name: "devicecode ← exec without environment writes none", user: kubeloginExec(["get-token", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT]), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT) },
  { name: "devicecode ← the existing --login azurecli is ignored", user: kubeloginExec(["get-token", "--login", "azurecli", "--server-id", SERVER]), error: "--client-id is required" },
  { name: "devicecode ← --tenant-id=value spelling is not recognised", user: kubeloginExec(["get-token", "--server-id", SERVER, "--client-id", CLIENT, `--tenant-id=${TENANT}`]), error: "--tenant-id is required" },
  { name: "devicecode ← short -t is not recognised", user: kubeloginExec(["get-token", "--server-id", SERVER, "--client-id", CLIENT, "-t", TENANT]), error: "--tenant-id is required" },
  { name: "devicecode ← a flag as the last arg has no value", user: kubeloginExec(["get-token", "--client-id", CLIENT, "--tenant-id", TENANT, "--server-id"]), error: "--server-id is required" },
  { name: "devicecode ← first occurrence of a repeated arg wins", user: kubeloginExec([...AKS_ARGS, "--client-id", "second"]), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "devicecode ← existing PoP args are dropped", user: kubeloginExec([...AKS_ARGS, "--pop-enabled", "--pop-claims", "u=cluster"]), want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "devicecode ← missing client-id in auth-provider", user: azureProvider({ "client-id": undefined }), error: "--client-id is required" },
  { name: "devicecode ← missing tenant-id in auth-provider", user: azureProvider({ "tenant-id": undefined }), error: "--tenant-id is required" },
  { name: "devicecode ← missing apiserver-id in auth-provider", user: azureProvider({ "apiserver-id": undefined }), error: "--server-id is required" },
  { name: "devicecode ← --server-id fills a missing apiserver-id", user: azureProvider({ "apiserver-id": undefined, "config-mode": "1" }), flags: ["--server-id", "flag-server"], want: g("devicecode", "--server-id", "flag-server", "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "devicecode ← server-id is checked before client-id", user: kubeloginExec(["get-token"]), error: "--server-id is required" },

  // ── cache dir carry-over ──
  { name: "cache dir ← --cache-dir flag", user: kubeloginExec(AKS_ARGS), flags: ["--cache-dir", "/flag/cache"], want: g("devicecode", "--server-id", SERVER, "--cache-dir", "/flag/cache", "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "cache dir ← deprecated --token-cache-dir flag is written as --cache-dir", user: kubeloginExec(AKS_ARGS), flags: ["--token-cache-dir", "/flag/tokens"], want: g("devicecode", "--server-id", SERVER, "--cache-dir", "/flag/tokens", "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "cache dir ← exec --cache-dir", user: kubeloginExec([...AKS_ARGS, "--cache-dir", "/exec/cache"]), want: g("devicecode", "--server-id", SERVER, "--cache-dir", "/exec/cache", "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "cache dir ← exec --token-cache-dir is renamed", user: kubeloginExec([...AKS_ARGS, "--token-cache-dir", "/exec/tokens"]), want: g("devicecode", "--server-id", SERVER, "--cache-dir", "/exec/tokens", "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "cache dir ← exec --cache-dir beats exec --token-cache-dir", user: kubeloginExec([...AKS_ARGS, "--token-cache-dir", "/exec/tokens", "--cache-dir", "/exec/cache"]), want: g("devicecode", "--server-id", SERVER, "--cache-dir", "/exec/cache", "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "cache dir ← flag beats exec arg", user: kubeloginExec([...AKS_ARGS, "--cache-dir", "/exec/cache"]), flags: ["--cache-dir", "/flag/cache"], want: g("devicecode", "--server-id", SERVER, "--cache-dir", "/flag/cache", "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "cache dir ← KUBECACHEDIR alone is not written", user: kubeloginExec(AKS_ARGS), env: { KUBECACHEDIR: "/env/cache" }, want: g("devicecode", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "cache dir ← carried for azurecli too", user: kubeloginExec([...AKS_ARGS, "--cache-dir", "/exec/cache"]), flags: ["-l", "azurecli"], want: g("azurecli", "--server-id", SERVER, "--cache-dir", "/exec/cache") },

  // ── interactive ──
  { name: "interactive ← auth-provider config-mode 0 (no --legacy for interactive)", user: azureProvider({ "config-mode": "0" }), flags: ["-l", "interactive"], want: g("interactive", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "interactive ← exec", user: kubeloginExec(AKS_ARGS), flags: ["-l", "interactive"], want: g("interactive", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "interactive ← exec PoP pair is kept", user: kubeloginExec([...AKS_ARGS, "--pop-enabled", "--pop-claims", "u=/subscriptions/x/cluster"]), flags: ["-l", "interactive"], want: g("interactive", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--pop-enabled", "--pop-claims", "u=/subscriptions/x/cluster") },
  { name: "interactive ← PoP flags", user: kubeloginExec(AKS_ARGS), flags: ["-l", "interactive", "--pop-enabled", "--pop-claims", "u=flag"], want: g("interactive", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--pop-enabled", "--pop-claims", "u=flag") },
  { name: "interactive ← --pop-claims flag replaces exec claims", user: kubeloginExec([...AKS_ARGS, "--pop-enabled", "--pop-claims", "u=old"]), flags: ["-l", "interactive", "--pop-enabled", "--pop-claims", "u=new"], want: g("interactive", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--pop-enabled", "--pop-claims", "u=new") },
  { name: "interactive ← exec --pop-enabled without claims", user: kubeloginExec([...AKS_ARGS, "--pop-enabled"]), flags: ["-l", "interactive"], error: "--pop-claims is required when specifying --pop-enabled" },
  { name: "interactive ← exec --pop-claims without --pop-enabled", user: kubeloginExec([...AKS_ARGS, "--pop-claims", "u=x"]), flags: ["-l", "interactive"], error: "--pop-enabled is required when specifying --pop-claims" },
  { name: "interactive ← --pop-enabled=false against exec PoP pair", user: kubeloginExec([...AKS_ARGS, "--pop-enabled", "--pop-claims", "u=x"]), flags: ["-l", "interactive", "--pop-enabled=false"], error: "--pop-enabled is required when specifying --pop-claims" },
  { name: "interactive ← exec --pop-enabled=true is not recognised", user: kubeloginExec([...AKS_ARGS, "--pop-enabled=true", "--pop-claims", "u=x"]), flags: ["-l", "interactive"], error: "--pop-enabled is required when specifying --pop-claims" },
  { name: "interactive ← auth-provider has no PoP", user: azureProvider({ "config-mode": "1" }), flags: ["-l", "interactive"], want: g("interactive", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  {
    name: "interactive ← exec redirect-url and login-hint after the PoP pair",
    user: kubeloginExec([...AKS_ARGS, "--login-hint", "me@contoso.com", "--redirect-url", "http://localhost:8400", "--pop-enabled", "--pop-claims", "u=x"]),
    flags: ["-l", "interactive"],
    want: g("interactive", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--pop-enabled", "--pop-claims", "u=x", "--redirect-url", "http://localhost:8400", "--login-hint", "me@contoso.com"),
  },
  { name: "interactive ← redirect-url and login-hint flags", user: azureProvider({ "config-mode": "1" }), flags: ["-l", "interactive", "--login-hint", "flag@contoso.com", "--redirect-url", "http://localhost:1"], want: g("interactive", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--redirect-url", "http://localhost:1", "--login-hint", "flag@contoso.com") },
  { name: "interactive ← missing client-id", user: kubeloginExec(["get-token", "--server-id", SERVER, "--tenant-id", TENANT]), flags: ["-l", "interactive"], error: "--client-id is required" },

  // ── spn ──
  { name: "spn ← auth-provider config-mode 1", user: azureProvider({ "config-mode": "1" }), flags: ["-l", "spn"], want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "spn ← auth-provider legacy", user: azureProvider(), flags: ["-l", "spn"], want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--legacy") },
  { name: "spn ← exec with --client-secret flag", user: kubeloginExec(AKS_ARGS), flags: ["-l", "spn", "--client-secret", "s3cret"], want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--client-secret", "s3cret") },
  {
    name: "spn ← certificate and password flags, in order",
    user: kubeloginExec(AKS_ARGS),
    flags: ["-l", "spn", "--client-certificate-password", "pw", "--client-certificate", "/certs/spn.pfx"],
    want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--client-certificate", "/certs/spn.pfx", "--client-certificate-password", "pw"),
  },
  { name: "spn ← AZURE_CLIENT_SECRET alone is never written (CI recipe)", user: kubeloginExec(AKS_ARGS), flags: ["-l", "spn"], env: { AZURE_CLIENT_SECRET: "from-env", AZURE_CLIENT_ID: "env-client", AZURE_TENANT_ID: "env-tenant" }, want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "spn ← AZURE_CLIENT_SECRET replaces the value of a given --client-secret", user: kubeloginExec(AKS_ARGS), flags: ["-l", "spn", "--client-secret", "from-flag"], env: { AZURE_CLIENT_SECRET: "from-env" }, want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--client-secret", "from-env") },
  { name: "spn ← AZURE_CLIENT_ID replaces the value of a given --client-id", user: kubeloginExec(AKS_ARGS), flags: ["-l", "spn", "--client-id", "flag-client"], env: { AZURE_CLIENT_ID: "env-client" }, want: g("spn", "--server-id", SERVER, "--client-id", "env-client", "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "spn ← --disable-environment-override keeps the flag value and is written", user: kubeloginExec(AKS_ARGS), flags: ["-l", "spn", "--client-id", "flag-client", "--disable-environment-override"], env: { AZURE_CLIENT_ID: "env-client" }, want: g("spn", "--server-id", SERVER, "--client-id", "flag-client", "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--disable-environment-override") },
  { name: "spn ← --disable-environment-override=false is still written (upstream quirk)", user: kubeloginExec(AKS_ARGS), flags: ["-l", "spn", "--disable-environment-override=false"], want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--disable-environment-override") },
  { name: "spn ← --use-azurerm-env-vars: ARM_CLIENT_SECRET replaces the flag value", user: kubeloginExec(AKS_ARGS), flags: ["-l", "spn", "--use-azurerm-env-vars", "--client-secret", "flag"], env: { ARM_CLIENT_SECRET: "arm", AZURE_CLIENT_SECRET: "ignored" }, want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--client-secret", "arm") },
  {
    name: "spn ← legacy, PoP pair, then --disable-environment-override",
    user: kubeloginExec([...AKS_ARGS, "--legacy", "--pop-enabled", "--pop-claims", "u=x"]),
    flags: ["-l", "spn", "--disable-environment-override", "--client-secret", "s"],
    want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--client-secret", "s", "--legacy", "--pop-enabled", "--pop-claims", "u=x", "--disable-environment-override"),
  },
  { name: "spn ← PoP flags", user: azureProvider({ "config-mode": "1" }), flags: ["-l", "spn", "--pop-enabled", "--pop-claims", "u=x,k=v"], want: g("spn", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--pop-enabled", "--pop-claims", "u=x,k=v") },
  { name: "spn ← exec --pop-enabled without claims", user: kubeloginExec([...AKS_ARGS, "--pop-enabled"]), flags: ["-l", "spn"], error: "--pop-claims is required when specifying --pop-enabled" },
  { name: "spn ← missing tenant", user: kubeloginExec(["get-token", "--server-id", SERVER, "--client-id", CLIENT]), flags: ["-l", "spn"], error: "--tenant-id is required" },
  { name: "spn ← AZURE_TENANT_ID alone does not fill a missing tenant", user: kubeloginExec(["get-token", "--server-id", SERVER, "--client-id", CLIENT]), flags: ["-l", "spn"], env: { AZURE_TENANT_ID: "env-tenant" }, error: "--tenant-id is required" },

  // ── ropc ──
  { name: "ropc ← auth-provider legacy with username and password flags", user: azureProvider(), flags: ["-l", "ropc", "--username", "me@contoso.com", "--password", "pw"], want: g("ropc", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--username", "me@contoso.com", "--password", "pw", "--legacy") },
  { name: "ropc ← exec with PoP pair", user: kubeloginExec([...AKS_ARGS, "--pop-enabled", "--pop-claims", "u=x"]), flags: ["-l", "ropc"], want: g("ropc", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--pop-enabled", "--pop-claims", "u=x") },
  { name: "ropc ← AZURE_USERNAME / AZURE_PASSWORD alone are never written", user: kubeloginExec(AKS_ARGS), flags: ["-l", "ropc"], env: { AZURE_USERNAME: "u", AZURE_PASSWORD: "p" }, want: g("ropc", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT, "--environment", "AzurePublicCloud") },
  { name: "ropc ← exec --pop-claims without --pop-enabled", user: kubeloginExec([...AKS_ARGS, "--pop-claims", "u=x"]), flags: ["-l", "ropc"], error: "--pop-enabled is required when specifying --pop-claims" },

  // ── msi ──
  { name: "msi ← auth-provider keeps only the server id", user: azureProvider(), flags: ["-l", "msi"], want: g("msi", "--server-id", SERVER) },
  { name: "msi ← exec client-id is not carried over", user: kubeloginExec(AKS_ARGS), flags: ["-l", "msi"], want: g("msi", "--server-id", SERVER) },
  { name: "msi ← --client-id flag", user: kubeloginExec(AKS_ARGS), flags: ["-l", "msi", "--client-id", "mi-client"], want: g("msi", "--server-id", SERVER, "--client-id", "mi-client") },
  { name: "msi ← --identity-resource-id flag", user: kubeloginExec(AKS_ARGS), flags: ["-l", "msi", "--identity-resource-id", "/subscriptions/s/mi"], want: g("msi", "--server-id", SERVER, "--identity-resource-id", "/subscriptions/s/mi") },
  { name: "msi ← --client-id wins over --identity-resource-id", user: kubeloginExec(AKS_ARGS), flags: ["-l", "msi", "--identity-resource-id", "/subscriptions/s/mi", "--client-id", "mi-client"], want: g("msi", "--server-id", SERVER, "--client-id", "mi-client") },
  { name: "msi ← AZURE_CLIENT_ID alone is not written", user: kubeloginExec(AKS_ARGS), flags: ["-l", "msi"], env: { AZURE_CLIENT_ID: "env-client" }, want: g("msi", "--server-id", SERVER) },
  { name: "msi ← missing server id", user: kubeloginExec(["get-token", "--client-id", CLIENT]), flags: ["-l", "msi"], error: "--server-id is required" },

  // ── azurecli ──
  { name: "azurecli ← auth-provider", user: azureProvider(), flags: ["-l", "azurecli"], want: g("azurecli", "--server-id", SERVER) },
  { name: "azurecli ← exec drops existing tenant and environment", user: kubeloginExec(AKS_ARGS), flags: ["-l", "azurecli"], want: g("azurecli", "--server-id", SERVER) },
  { name: "azurecli ← exec drops existing --subscription", user: kubeloginExec(["get-token", "--login", "azurecli", "--server-id", SERVER, "--tenant-id", TENANT, "--subscription", "sub"]), flags: ["-l", "azurecli"], want: g("azurecli", "--server-id", SERVER) },
  { name: "azurecli ← --tenant-id and -s flags", user: kubeloginExec(AKS_ARGS), flags: ["-l", "azurecli", "-s", "my-sub", "--tenant-id", "flag-tenant"], want: g("azurecli", "--server-id", SERVER, "--tenant-id", "flag-tenant", "--subscription", "my-sub") },
  { name: "azurecli ← --azure-config-dir becomes AZURE_CONFIG_DIR", user: kubeloginExec(AKS_ARGS, { env: [{ name: "OLD", value: "x" }] }), flags: ["-l", "azurecli", "--azure-config-dir", "/home/ci/.azure"], want: g("azurecli", "--server-id", SERVER), wantEnv: [{ name: "AZURE_CONFIG_DIR", value: "/home/ci/.azure" }] },
  { name: "azurecli ← existing env entries are dropped", user: kubeloginExec(AKS_ARGS, { env: [{ name: "AZURE_CONFIG_DIR", value: "/old" }] }), flags: ["-l", "azurecli"], want: g("azurecli", "--server-id", SERVER) },
  { name: "azurecli ← PoP args are dropped", user: kubeloginExec([...AKS_ARGS, "--pop-enabled"]), flags: ["-l", "azurecli"], want: g("azurecli", "--server-id", SERVER) },

  // ── azd ──
  { name: "azd ← exec", user: kubeloginExec(AKS_ARGS), flags: ["-l", "azd"], want: g("azd", "--server-id", SERVER) },
  { name: "azd ← --tenant-id flag", user: azureProvider(), flags: ["-l", "azd", "--tenant-id", "flag-tenant"], want: g("azd", "--server-id", SERVER, "--tenant-id", "flag-tenant") },
  { name: "azd ← --azure-config-dir is azurecli only", user: kubeloginExec(AKS_ARGS), flags: ["-l", "azd", "--azure-config-dir", "/x"], want: g("azd", "--server-id", SERVER) },

  // ── workloadidentity ──
  { name: "workloadidentity ← exec drops client and tenant", user: kubeloginExec(AKS_ARGS), flags: ["-l", "workloadidentity"], want: g("workloadidentity", "--server-id", SERVER) },
  {
    name: "workloadidentity ← every flag, in order",
    user: azureProvider(),
    flags: ["-l", "workloadidentity", "--federated-token-file", "/var/run/token", "--authority-host", "https://login.example.com/", "--tenant-id", "flag-tenant", "--client-id", "flag-client"],
    want: g("workloadidentity", "--server-id", SERVER, "--client-id", "flag-client", "--tenant-id", "flag-tenant", "--authority-host", "https://login.example.com/", "--federated-token-file", "/var/run/token"),
  },
  { name: "workloadidentity ← AZURE_* env alone is not written", user: kubeloginExec(AKS_ARGS), flags: ["-l", "workloadidentity"], env: { AZURE_CLIENT_ID: "c", AZURE_TENANT_ID: "t", AZURE_FEDERATED_TOKEN_FILE: "/f", AZURE_AUTHORITY_HOST: "https://login.example.com/" }, want: g("workloadidentity", "--server-id", SERVER) },
  { name: "workloadidentity ← AZURE_CLIENT_ID replaces a given --client-id", user: kubeloginExec(AKS_ARGS), flags: ["-l", "workloadidentity", "--client-id", "flag-client"], env: { AZURE_CLIENT_ID: "env-client" }, want: g("workloadidentity", "--server-id", SERVER, "--client-id", "env-client") },

  // ── azurepipelines ──
  { name: "azurepipelines ← exec tenant, never a client id", user: kubeloginExec(AKS_ARGS), flags: ["-l", "azurepipelines"], want: g("azurepipelines", "--server-id", SERVER, "--tenant-id", TENANT) },
  { name: "azurepipelines ← auth-provider tenant", user: azureProvider(), flags: ["-l", "azurepipelines", "--client-id", "ignored"], want: g("azurepipelines", "--server-id", SERVER, "--tenant-id", TENANT) },
  { name: "azurepipelines ← service connection flag", user: kubeloginExec(AKS_ARGS), flags: ["-l", "azurepipelines", "--azure-pipelines-service-connection-id", "sc-1", "-t", "flag-tenant"], want: g("azurepipelines", "--server-id", SERVER, "--tenant-id", "flag-tenant", "--azure-pipelines-service-connection-id", "sc-1") },
  { name: "azurepipelines ← missing tenant", user: kubeloginExec(["get-token", "--server-id", SERVER]), flags: ["-l", "azurepipelines"], error: "--tenant-id is required" },
  { name: "azurepipelines ← AZURESUBSCRIPTION_TENANT_ID alone does not count", user: kubeloginExec(["get-token", "--server-id", SERVER]), flags: ["-l", "azurepipelines"], env: { AZURESUBSCRIPTION_TENANT_ID: "env-tenant" }, error: "--tenant-id is required" },

  // ── target mode from the environment (§1.2 step 6) ──
  { name: "AAD_LOGIN_METHOD picks the target mode", user: kubeloginExec(AKS_ARGS), env: { AAD_LOGIN_METHOD: "azurecli" }, want: g("azurecli", "--server-id", SERVER) },
  { name: "AAD_LOGIN_METHOD beats -l", user: kubeloginExec(AKS_ARGS), flags: ["-l", "devicecode"], env: { AAD_LOGIN_METHOD: "msi" }, want: g("msi", "--server-id", SERVER) },
  { name: "AAD_LOGIN_METHOD is ignored with --disable-environment-override", user: kubeloginExec(AKS_ARGS), flags: ["-l", "azd", "--disable-environment-override"], env: { AAD_LOGIN_METHOD: "msi" }, want: g("azd", "--server-id", SERVER) },

  // ── both an azure auth-provider and a kubelogin exec: values come from the auth-provider ──
  {
    name: "auth-provider wins over exec args for value lookup",
    user: { ...azureProvider({ "config-mode": "1", "client-id": "provider-client" }), ...kubeloginExec([...AKS_ARGS, "--cache-dir", "/exec/cache", "--legacy"]) },
    want: g("devicecode", "--server-id", SERVER, "--client-id", "provider-client", "--tenant-id", TENANT, "--environment", "AzurePublicCloud"),
    wantHint: "custom hint",
  },
];

function docWith(user: YamlMap): KubeconfigDoc {
  return {
    apiVersion: "v1",
    kind: "Config",
    users: [
      { name: "bystander", user: { exec: { apiVersion: V1BETA1, command: "kubelogin", args: ["get-token"] } } },
      { name: "u", user: structuredClone(user) },
    ],
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
  };
}

function expectedUser(input: YamlMap, exec: ExecConfig): YamlMap {
  const kept = Object.fromEntries(Object.entries(input).filter(([key]) => key !== "exec" && key !== "auth-provider"));
  return { ...kept, exec };
}

describe("convertKubeconfig", () => {
  test("the table has a row for every target mode", () => {
    const modes = new Set(rows.flatMap((row) => (row.want ? [row.want[2]] : [])));
    expect([...modes].sort()).toEqual(["azd", "azurecli", "azurepipelines", "devicecode", "interactive", "msi", "ropc", "spn", "workloadidentity"]);
  });

  test.each(rows)("$name", (row) => {
    const doc = docWith(row.user);
    const before = structuredClone(doc);
    // --context scopes each row to user "u"; the bystander (an incomplete kubelogin stanza that
    // would fail to convert) must come out exactly as it went in.
    const req = request([...(row.flags ?? []), "--context", "ctx"], row.env);
    if (row.error !== undefined) {
      expect(() => convertKubeconfig(doc, req)).toThrow(expect.objectContaining({ name: ConvertError.name, message: row.error }));
      expect(doc).toEqual(before);
      return;
    }
    const result = convertKubeconfig(doc, req);
    if (row.untouched) {
      expect(result.changedUsers).toEqual([]);
      expect(doc).toEqual(before);
      return;
    }
    const exec: ExecConfig = {
      apiVersion: V1BETA1,
      args: row.want!,
      command: "kubelogin",
      env: row.wantEnv ?? null,
      installHint: row.wantHint ?? (((row.user.exec as YamlMap | undefined)?.installHint as string | undefined) || INSTALL_HINT),
      provideClusterInfo: false,
    };
    expect(result.changedUsers).toEqual([{ name: "u", exec }]);
    expect(doc).toEqual({ ...before, users: [before.users![0], { name: "u", user: expectedUser(row.user, exec) }] });
    expect(Object.keys(doc.users![1]!.user!.exec as YamlMap)).toEqual(["apiVersion", "args", "command", "env", "installHint", "provideClusterInfo"]);
  });
});

describe("which users and in what shape", () => {
  const yaml = `
apiVersion: v1
kind: Config
contexts:
- name: aks
  context: {cluster: aks, user: aks-user}
- name: no-user
  context: {cluster: aks}
users:
- name: aks-user
  user:
    client-key-data: a2V5
    auth-provider:
      name: azure
      config: {apiserver-id: ${SERVER}, client-id: ${CLIENT}, tenant-id: ${TENANT}, config-mode: "1"}
    token: keep-me
- name: other-user
  user:
    exec:
      command: kubelogin
      args: [get-token, --server-id, other-server, --client-id, c2, --tenant-id, t2]
`;

  test("--context converts only the user of that context", () => {
    const doc = parseKubeconfig(yaml, "inline");
    const result = convertKubeconfig(doc, request(["--context", "aks", "-l", "azurecli"]));
    expect(result.changedUsers.map((u) => u.name)).toEqual(["aks-user"]);
    expect((doc.users![1]!.user!.exec as YamlMap).args).toEqual(["get-token", "--server-id", "other-server", "--client-id", "c2", "--tenant-id", "t2"]);
  });

  test("the new exec takes the auth-provider's place; other fields keep theirs", () => {
    const doc = parseKubeconfig(yaml, "inline");
    convertKubeconfig(doc, request(["--context", "aks", "-l", "azurecli"]));
    expect(Object.keys(doc.users![0]!.user!)).toEqual(["client-key-data", "exec", "token"]);
  });

  test("without --context every convertible user is converted, in document order", () => {
    const doc = parseKubeconfig(yaml, "inline");
    const result = convertKubeconfig(doc, request(["-l", "azurecli"]));
    expect(result.changedUsers.map((u) => [u.name, u.exec.args])).toEqual([
      ["aks-user", g("azurecli", "--server-id", SERVER)],
      ["other-user", g("azurecli", "--server-id", "other-server")],
    ]);
  });

  test("a context without a user means every user (upstream edge)", () => {
    const doc = parseKubeconfig(yaml, "inline");
    const result = convertKubeconfig(doc, request(["--context", "no-user", "-l", "azd"]));
    expect(result.changedUsers.map((u) => u.name)).toEqual(["aks-user", "other-user"]);
  });

  test("an unknown --context fails with upstream's text and names the known contexts", () => {
    const doc = parseKubeconfig(yaml, "inline");
    const before = structuredClone(doc);
    expect(() => convertKubeconfig(doc, request(["--context", "nope"]))).toThrow(
      expect.objectContaining({ name: "KubeconfigError", message: 'no context exists with the name: "nope"', hint: "pass --context with one of: aks, no-user" }),
    );
    expect(doc).toEqual(before);
  });

  test("the context name is quoted as Go's %q does", () => {
    expect(() => convertKubeconfig(parseKubeconfig(yaml, "inline"), request(["--context", "tab\there"]))).toThrow('no context exists with the name: "tab\\there"');
  });

  test("one failing user aborts the whole conversion before anything changes", () => {
    const doc = parseKubeconfig(yaml.replace("--server-id, other-server, ", ""), "inline");
    const before = structuredClone(doc);
    expect(() => convertKubeconfig(doc, request(["-l", "azurecli"]))).toThrow("--server-id is required");
    expect(doc).toEqual(before);
  });

  test("a second run changes nothing", () => {
    const doc = parseKubeconfig(yaml, "inline");
    convertKubeconfig(doc, request(["-l", "spn", "--client-secret", "s"]));
    const again = convertKubeconfig(doc, request(["-l", "spn", "--client-secret", "s"]));
    expect(again.changedUsers).toEqual([]);
    expect(again.unchangedUsers).toEqual(["aks-user", "other-user"]);
  });

  test("within one document the last user of a name is the one converted (client-go)", () => {
    const doc = parseKubeconfig(
      `users:\n- name: dup\n  user: {token: first}\n- name: dup\n  user: {exec: {command: kubelogin, args: [get-token, --server-id, s]}}\n`,
      "inline",
    );
    const result = convertKubeconfig(doc, request(["-l", "azurecli"]));
    expect(result.changedUsers.map((u) => u.name)).toEqual(["dup"]);
    expect(doc.users![0]!.user).toEqual({ token: "first" });
  });

  test("an unsupported mode is rejected with upstream's text", () => {
    const req = { ...request([]), options: { ...request([]).options, loginMethod: "bogus" } };
    expect(() => convertKubeconfig({}, req)).toThrow(
      "'bogus' is not a supported login method. Supported method is one of devicecode, interactive, spn, ropc, msi, azurecli, azd, workloadidentity, azurepipelines",
    );
  });

  test("an empty document converts nothing", () => {
    expect(convertKubeconfig(parseKubeconfig("", "empty"), request([])).changedUsers).toEqual([]);
  });
});

describe("error hints", () => {
  test("a missing server id names the user, its file and the flag", () => {
    const doc = parseKubeconfig(`users:\n- name: clusterUser_rg_aks\n  user:\n    exec: {command: kubelogin, args: [get-token]}\n`, "inline");
    const req = { ...request(["-l", "azurecli"]), origins: new Map([["clusterUser_rg_aks", "/home/me/.kube/config"]]) };
    expect(() => convertKubeconfig(doc, req)).toThrow(
      expect.objectContaining({
        message: "--server-id is required",
        hint: 'user "clusterUser_rg_aks" in /home/me/.kube/config has no --server-id in its exec args; pass --server-id <AAD server application ID>',
      }),
    );
  });

  test("an auth-provider user is told about apiserver-id", () => {
    const doc = { users: [{ name: "u", user: azureProvider({ "apiserver-id": undefined }) }] };
    expect(() => convertKubeconfig(doc, request([]))).toThrow(expect.objectContaining({ hint: expect.stringContaining("no apiserver-id in its azure auth-provider config") }));
  });

  test("an env var that would have supplied the value is named, with why it is not used", () => {
    const doc = { users: [{ name: "u", user: kubeloginExec(["get-token", "--server-id", SERVER, "--tenant-id", TENANT]) }] };
    expect(() => convertKubeconfig(doc, request(["-l", "spn"], { AZURE_CLIENT_ID: "env" }))).toThrow(
      expect.objectContaining({ hint: expect.stringContaining("AZURE_CLIENT_ID is set, but convert-kubeconfig writes only values given as flags") }),
    );
  });
});

describe("execArg (upstream getExecArg)", () => {
  test.each([
    [["--a", "1", "--a", "2"], "--a", "1"],
    [["--a"], "--a", ""],
    [["--a=1"], "--a", ""],
    [["x", "--a", "--b"], "--a", "--b"],
    [[], "--a", ""],
  ])("%j %s → %j", (args, flag, want) => {
    expect(execArg(args, flag)).toBe(want);
  });
});

describe("edges of the request and the document", () => {
  const provider = (config: Record<string, string | undefined> = {}) => azureProvider(config);

  test("a request without context, azure config dir, origins or provenance converts every user", () => {
    const { options, changed } = request(["-l", "azurecli"]);
    const doc: KubeconfigDoc = { users: [{ name: "u", user: provider() }, { user: kubeloginExec(["get-token", "--server-id", SERVER]) }] };
    const result = convertKubeconfig(doc, { options, changed });
    expect(result.changedUsers.map((u) => [u.name, u.exec.env])).toEqual([
      ["u", null],
      ["", null],
    ]);
  });

  test("a missing value without origins or provenance gets a hint with neither", () => {
    const { options, changed } = request(["-l", "devicecode"]);
    const doc = { users: [{ name: "u", user: provider({ "client-id": undefined }) }] };
    expect(() => convertKubeconfig(doc, { options, changed })).toThrow(
      expect.objectContaining({
        message: "--client-id is required",
        hint: 'user "u" has no client-id in its azure auth-provider config; pass --client-id <AAD client application ID>',
      }),
    );
    const noTenant = { users: [{ name: "u", user: provider({ "tenant-id": undefined }) }] };
    expect(() => convertKubeconfig(noTenant, { options, changed })).toThrow(
      expect.objectContaining({
        message: "--tenant-id is required",
        hint: 'user "u" has no tenant-id in its azure auth-provider config; pass --tenant-id <AAD tenant ID>',
      }),
    );
  });

  test("an env var that emptied a flag's value is named as the cause", () => {
    const doc = { users: [{ name: "u", user: kubeloginExec(["get-token", "--server-id", SERVER, "--tenant-id", TENANT]) }] };
    expect(() => convertKubeconfig(doc, request(["-l", "spn", "--client-id", "x"], { AZURE_CLIENT_ID: "" }))).toThrow(
      expect.objectContaining({
        hint: 'user "u" has no --client-id in its exec args; pass --client-id <AAD client application ID>; AZURE_CLIENT_ID overrode --client-id with an empty value',
      }),
    );
  });

  test("--context on a document without contexts says there are none", () => {
    expect(() => convertKubeconfig({ users: [{ name: "u", user: provider() }] }, request(["--context", "x"]))).toThrow(
      expect.objectContaining({ hint: "the kubeconfig defines no contexts; drop --context to convert every user" }),
    );
    expect(() => convertKubeconfig({ contexts: [{ context: { user: "u" } }] }, request(["--context", "x"]))).toThrow(
      expect.objectContaining({ hint: "pass --context with one of: " }),
    );
  });

  test("of two entries with one name, only the last counts: users and contexts alike", () => {
    const doc: KubeconfigDoc = {
      users: [
        { name: "dup", user: provider() },
        { name: "dup", user: kubeloginExec(["get-token", "--server-id", "second"]) },
        { name: "b", user: provider() },
      ],
      contexts: [
        { name: "c", context: { user: "b" } },
        { name: "c", context: { user: "dup" } },
      ],
    };
    const result = convertKubeconfig(doc, request(["--context", "c", "-l", "azurecli"]));
    expect(result.changedUsers.map((u) => [u.name, u.exec.args])).toEqual([["dup", g("azurecli", "--server-id", "second")]]);
    expect(doc.users![0]!.user).toEqual(provider());
    expect(doc.users![2]!.user).toEqual(provider());
  });

  test("a user with both an auth-provider and the very exec it would get is still converted: the auth-provider goes", () => {
    const doc: KubeconfigDoc = { users: [{ name: "u", user: provider() }] };
    const [converted] = convertKubeconfig(doc, request(["-l", "azurecli"])).changedUsers;
    const both: KubeconfigDoc = { users: [{ name: "u", user: { ...provider(), exec: converted!.exec } }] };
    const result = convertKubeconfig(both, request(["-l", "azurecli"]));
    expect(result.changedUsers.map((u) => u.name)).toEqual(["u"]);
    expect(Object.keys(both.users![0]!.user!)).toEqual(["exec"]);
  });

  test("--legacy=false on the command line writes no --legacy, and does not cancel legacy found in the user", () => {
    const exec = (user: YamlMap) => convertKubeconfig({ users: [{ name: "u", user }] }, request(["-l", "devicecode", "--legacy=false"])).changedUsers[0]!.exec.args;
    expect(exec(provider({ "config-mode": "1" }))).not.toContain("--legacy");
    expect(exec(provider({ "config-mode": "0" }))).toContain("--legacy");
  });

  test("PoP flags without their partner say how to fix it for that user", () => {
    const base = ["get-token", "--server-id", SERVER, "--client-id", CLIENT, "--tenant-id", TENANT];
    const enabledOnly = kubeloginExec([...base, "--pop-enabled"]);
    const claimsOnly = kubeloginExec([...base, "--pop-claims", "u=x"]);
    expect(() => convertKubeconfig({ users: [{ name: "u", user: enabledOnly }] }, request(["-l", "interactive"]))).toThrow(
      expect.objectContaining({
        message: "--pop-claims is required when specifying --pop-enabled",
        hint: 'pass --pop-claims "u=<cluster ARM ID>" for user "u", or --pop-enabled=false to drop PoP',
      }),
    );
    expect(() => convertKubeconfig({ users: [{ name: "u", user: claimsOnly }] }, request(["-l", "interactive"]))).toThrow(
      expect.objectContaining({
        message: "--pop-enabled is required when specifying --pop-claims",
        hint: 'pass --pop-enabled for user "u", or --pop-claims "" to drop the claims',
      }),
    );
  });
});

