// Azure CLI login (compat spec §3.9, decisions 2 and 11): `az account get-access-token`, with
// azidentity AzureCLICredential's arguments, checks, output parsing and error texts. Unlike upstream
// the token is cached, under a key holding a fingerprint of az's signed-in identity, so az (a Python
// program, 0.5-15 s a run) runs once per token lifetime instead of before every kubectl command,
// and `az login` as someone else, `az account set`, `az cloud set` or `az logout` is still seen at
// the next call.
//
// @azure/identity's AzureCliCredential is not used: it starts az through a shell with a joined
// command line (style.md §4) and outside our Runtime's spawn, so tests could not see its argv or
// env; what it does is small enough to do here (cli-token.ts).
import { checkTenantFormat, scopeFor } from "./authority.js";
import { KubeloginError, ValidationError } from "../errors.js";
import type { Env, GetTokenOptions } from "../options/resolve.js";
import { NOT_FOUND, configDirFrom, failureText, isValidCliScope, parseCliJson, readFingerprinted, runCli, timeFromParts, type CliProgram } from "./cli-token.js";
import type { AccessToken, LoginDeps, LoginPlan, LoginStrategy, PlanContext } from "./types.js";

const AZ: CliProgram = { command: "az", credential: "AzureCLICredential" };

const messages = {
  create: "failed to create azure cli credential",
  invalidSubscription: (s: string) =>
    `AzureCLICredential: Subscription ${JSON.stringify(s)} contains invalid characters. If this is the name of a subscription, use its ID instead`,
  subscriptionHint: "pass the subscription's ID with --subscription (az account list -o table shows it)",
  invalidScope: (s: string) => `AzureCLICredential.GetToken(): invalid scope ${JSON.stringify(s)}`,
  scopeHint: "--server-id may hold only letters, digits and the characters . - _ / :",
  notFound: "AzureCLICredential: Azure CLI not found on path",
  notFoundHint: "install the Azure CLI (https://aka.ms/azure-cli), or add the directory holding az to the PATH kubectl runs kubelogin with",
  loginHint: (configDir: string) => `run "az login" as this user; the Azure CLI config dir is ${configDir} (AZURE_CONFIG_DIR changes it)`,
  noToken: "AzureCLICredential: the output of az has no accessToken",
  badExpiry: (text: string) =>
    `AzureCLICredential: error parsing token expiration time ${JSON.stringify(text)}: expected expires_on (Unix seconds) or expiresOn as local time YYYY-MM-DD HH:MM:SS[.ffffff]`,
} as const;

/** Everything az's answer depends on besides the arguments: which az config, who is signed in there, which cloud is active. */
export async function azIdentity(env: Env, homedir: string): Promise<{ configDir: string; fingerprint: string[]; files: string[] }> {
  const configDir = configDirFrom(env, "AZURE_CONFIG_DIR", homedir, ".azure");
  // azureProfile.json holds the signed-in accounts and the default subscription (az login, az
  // logout, az account set); `config` holds the active cloud (az cloud set), which AZURE_CLOUD_NAME
  // overrides. msal_token_cache.json is left out: it never decides who is signed in, it changes at
  // every token refresh and it can be large, while this runs on every call.
  const files = await Promise.all([readFingerprinted(configDir, "azureProfile.json"), readFingerprinted(configDir, "config")]);
  return { configDir, fingerprint: [configDir, ...files.map((f) => f.entry), `AZURE_CLOUD_NAME=${env.AZURE_CLOUD_NAME ?? ""}`], files: files.map((f) => f.path) };
}

function checkOptions(o: Readonly<GetTokenOptions>): void {
  if (!/^[0-9A-Za-z_. -]*$/.test(o.subscription)) {
    throw new ValidationError(`${messages.create}: ${messages.invalidSubscription(o.subscription)}`, { hint: messages.subscriptionHint });
  }
  if (o.tenantId !== "") checkTenantFormat(o.tenantId, messages.create);
}

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
  checkOptions(o);
  const scope = scopeFor(o.serverId);
  // az takes an Entra ID v1 resource: the scope without its /.default.
  const resource = scope.slice(0, -"/.default".length);
  const identity = await azIdentity(context.env, context.homedir);
  return {
    cacheKey: ["azurecli", resource, o.tenantId, o.subscription, ...identity.fingerprint],
    inputs: identity.files,
    warnings: [],
    acquire: (deps) => acquireToken(o, scope, resource, identity.configDir, deps),
  };
}

async function acquireToken(o: Readonly<GetTokenOptions>, scope: string, resource: string, configDir: string, deps: LoginDeps): Promise<AccessToken> {
  deps.log.v(5, "using credential: AzureCLICredential");
  try {
    if (!isValidCliScope(scope)) throw new ValidationError(messages.invalidScope(scope), { hint: messages.scopeHint });
    const args = ["account", "get-access-token", "-o", "json", "--resource", resource];
    if (o.tenantId !== "") args.push("--tenant", o.tenantId);
    if (o.subscription !== "") args.push("--subscription", o.subscription);
    const result = await runCli(AZ, args, deps);
    if (result === NOT_FOUND) throw new KubeloginError(messages.notFound, { hint: messages.notFoundHint });
    if (result.exitCode !== 0) {
      const text = failureText(result);
      // az says "Please run 'az login' to setup account." (or names `az login` in its re-login advice); its words stay the message.
      const needsLogin = /az login|az account set/.test(text);
      throw new KubeloginError(`${AZ.credential}: ${text}`, needsLogin ? { hint: messages.loginHint(configDir) } : {});
    }
    return parseAzOutput(result.stdout);
  } catch (err) {
    // The run's own timeout error is already worded for the user, and shared: never wrap it again.
    if (deps.signal.aborted) throw deps.signal.reason;
    throw err instanceof KubeloginError ? err.wrap("failed to get token") : err;
  }
}

/** `accessToken`, and the expiry from `expires_on` (Unix seconds, az 2.54+) or else `expiresOn` (local time). */
export function parseAzOutput(stdout: string): AccessToken {
  const out = parseCliJson(AZ, stdout);
  if (typeof out.accessToken !== "string" || out.accessToken === "") throw new KubeloginError(messages.noToken);
  if (typeof out.expires_on === "number" && Number.isInteger(out.expires_on) && out.expires_on !== 0) {
    return { token: out.accessToken, expiresOn: out.expires_on * 1000 };
  }
  const text = typeof out.expiresOn === "string" ? out.expiresOn : "";
  const expiresOn = parseLocalDateTime(text);
  if (expiresOn === undefined) throw new KubeloginError(messages.badExpiry(text));
  return { token: out.accessToken, expiresOn };
}

/** Python's str(datetime) of a naive local time, `2026-01-02 15:04:05.999999`, read in this process's time zone as Go's ParseInLocation(time.Local). */
export function parseLocalDateTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  return m ? timeFromParts(m.slice(1, 7), m[7], "local") : undefined;
}

export const azurecli: LoginStrategy = { mode: "azurecli", plan };
