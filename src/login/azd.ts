// Azure Developer CLI login (compat spec §3.10, decisions 2 and 11): `azd auth token`, with azidentity
// AzureDeveloperCLICredential's arguments, checks, output parsing and error texts, cached like
// azurecli under a fingerprint of azd's signed-in identity. @azure/identity is not used for the
// reason given in azurecli.ts.
import { checkTenantFormat, scopeFor } from "./authority.js";
import { azIdentity } from "./azurecli.js";
import { KubeloginError, ValidationError } from "../errors.js";
import type { Env, GetTokenOptions } from "../options/resolve.js";
import { NOT_FOUND, configDirFrom, failureText, isValidCliScope, parseCliJson, readFingerprinted, runCli, timeFromParts, type CliProgram } from "./cli-token.js";
import type { AccessToken, LoginDeps, LoginPlan, LoginStrategy, PlanContext } from "./types.js";

const AZD: CliProgram = { command: "azd", credential: "AzureDeveloperCLICredential" };

const messages = {
  create: "failed to create azure developer cli credential",
  invalidScope: (s: string) => `AzureDeveloperCLICredential.GetToken(): invalid scope ${JSON.stringify(s)}`,
  scopeHint: "--server-id may hold only letters, digits and the characters . - _ / :",
  notFound: "AzureDeveloperCLICredential: Azure Developer CLI not found on path",
  notFoundHint: "install the Azure Developer CLI (https://aka.ms/azd-install), or add the directory holding azd to the PATH kubectl runs kubelogin with",
  login: 'AzureDeveloperCLICredential: please run "azd auth login" from a command prompt to authenticate before using this credential',
  loginHint: (configDir: string) => `run "azd auth login" as this user; the azd config dir is ${configDir} (AZD_CONFIG_DIR changes it)`,
  noToken: "AzureDeveloperCLICredential: the output of azd has no token",
  badExpiry: (text: string) => `AzureDeveloperCLICredential: error parsing token expiration time ${JSON.stringify(text)}: expected YYYY-MM-DDTHH:MM:SSZ`,
} as const;

/**
 * Who azd is signed in as. `azd auth login` and `azd auth logout` rewrite `auth.json` (the current
 * user: home account id, or client and tenant id of a service principal; azd before 1.0 kept it in
 * `config.json`, which also holds the cloud and `auth.useAzCliAuth`). With `auth.useAzCliAuth`
 * azd hands the request to az, so az's identity counts as well.
 */
async function azdIdentity(env: Env, homedir: string): Promise<{ configDir: string; fingerprint: string[]; files: string[] }> {
  const configDir = configDirFrom(env, "AZD_CONFIG_DIR", homedir, ".azd");
  const [auth, config] = await Promise.all([readFingerprinted(configDir, "auth.json"), readFingerprinted(configDir, "config.json")]);
  const fingerprint = [configDir, auth.entry, config.entry];
  const files = [auth.path, config.path];
  if (usesAzCliAuth(config.content)) {
    const az = await azIdentity(env, homedir);
    fingerprint.push("useAzCliAuth", ...az.fingerprint);
    files.push(...az.files);
  }
  return { configDir, fingerprint, files };
}

/** azd reads `auth.useAzCliAuth` with Go's strconv.ParseBool. */
function usesAzCliAuth(configJson: Buffer | undefined): boolean {
  if (configJson === undefined) return false;
  try {
    const value = (JSON.parse(configJson.toString("utf8")) as { auth?: { useAzCliAuth?: unknown } } | null)?.auth?.useAzCliAuth;
    return typeof value === "string" && ["1", "t", "T", "TRUE", "true", "True"].includes(value);
  } catch {
    // azd fails on a broken config itself; its content hash is in the key already.
    return false;
  }
}

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
  if (o.tenantId !== "") checkTenantFormat(o.tenantId, messages.create);
  // azd takes the whole scope, /.default included; --subscription means nothing to it.
  const scope = scopeFor(o.serverId);
  const identity = await azdIdentity(context.env, context.homedir);
  return {
    cacheKey: ["azd", scope, o.tenantId, ...identity.fingerprint],
    inputs: identity.files,
    warnings: [],
    acquire: (deps) => acquireToken(o, scope, identity.configDir, deps),
  };
}

async function acquireToken(o: Readonly<GetTokenOptions>, scope: string, configDir: string, deps: LoginDeps): Promise<AccessToken> {
  deps.log.v(5, "using credential: AzureDeveloperCLICredential");
  try {
    if (!isValidCliScope(scope)) throw new ValidationError(messages.invalidScope(scope), { hint: messages.scopeHint });
    const args = ["auth", "token", "-o", "json"];
    if (o.tenantId !== "") args.push("--tenant-id", o.tenantId);
    args.push("--scope", scope);
    const result = await runCli(AZD, args, deps);
    if (result === NOT_FOUND) throw new KubeloginError(messages.notFound, { hint: messages.notFoundHint });
    if (result.exitCode !== 0) {
      const text = failureText(result);
      if (text.includes("azd auth login")) throw new KubeloginError(messages.login, { hint: messages.loginHint(configDir) });
      throw new KubeloginError(`${AZD.credential}: ${text}`);
    }
    return parseAzdOutput(result.stdout);
  } catch (err) {
    // The run's own timeout error is already worded for the user, and shared: never wrap it again.
    if (deps.signal.aborted) throw deps.signal.reason;
    throw err instanceof KubeloginError ? err.wrap("failed to get token") : err;
  }
}

/** `token`, and `expiresOn` in UTC as `2026-01-02T15:04:05Z` (Go's time.Parse also takes fractional seconds there). */
export function parseAzdOutput(stdout: string): AccessToken {
  const out = parseCliJson(AZD, stdout);
  if (typeof out.token !== "string" || out.token === "") throw new KubeloginError(messages.noToken);
  const text = typeof out.expiresOn === "string" ? out.expiresOn : "";
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/.exec(text);
  const expiresOn = m ? timeFromParts(m.slice(1, 7), m[7], "utc") : undefined;
  if (expiresOn === undefined) throw new KubeloginError(messages.badExpiry(text));
  return { token: out.token, expiresOn };
}

export const azd: LoginStrategy = { mode: "azd", plan };
