// `kubelogin doctor` (ours; upstream has none): explains a kubeconfig context without anyone
// pasting a token into a website. It shows the exec stanza and which `kubelogin` kubectl would
// run, the options as get-token would resolve them (with where each came from, secrets masked),
// the problems upstream reports only at sign-in, the cache's health and whether a token is cached,
// the proxy and CA settings, and with --get-token the decoded claims of a fresh token (never the
// token itself). Text for people, `-o json` for tools; exit 0 when nothing is wrong, 1 otherwise.
import { constants } from "node:fs";
import { access, lstat, open, readdir, realpath, stat } from "node:fs/promises";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createStores, parseCacheBackend, type CacheBackend } from "../cache/stores.js";
import { isFresh, parseTokenEntry, tokenEntryName } from "../cache/token-cache.js";
import { STALE_MS } from "../cache/lock.js";
import { foreignWriter, MAX_ENTRY_BYTES, readCacheFile } from "../cache/trust.js";
import { KubeloginError, redact, UsageError } from "../errors.js";
import { getToken } from "../exec/get-token.js";
import { loadKubeconfig } from "../kubeconfig/load.js";
import { isMap, stringField, type YamlMap } from "../kubeconfig/model.js";
import { loadStrategy } from "../login/registry.js";
import { describeOrigin } from "../options/origin.js";
import { parseFlags } from "../options/parse-flags.js";
import { resolveOptions, type Env, type ResolvedOptions } from "../options/resolve.js";
import { formatGoDuration } from "../options/duration.js";
import { CONVERT_ONLY_OPTIONS, GET_TOKEN_OPTIONS, GLOBAL_OPTIONS, type OptionSpec } from "../options/table.js";
import { validateOptions } from "../options/validate.js";
import type { Output, Runtime } from "../runtime.js";
import type { Command, CommandContext } from "./command.js";

const messages = {
  noContext: (name: string) => `context ${JSON.stringify(name)} not found in the kubeconfig`,
  noCurrentContext: "the kubeconfig has no current-context; pass --context",
  noUser: (context: string) => `context ${JSON.stringify(context)} names no user`,
  notExec: (user: string) => `user ${JSON.stringify(user)} has no exec stanza: kubectl does not run kubelogin for it (convert-kubeconfig writes one)`,
  notKubelogin: (command: string) => `the exec command ${JSON.stringify(command)} is not kubelogin`,
  notFound: (command: string) => `kubectl would not find ${JSON.stringify(command)}: it is not on PATH`,
  int128: (path: string) => `${path} is int128/kubelogin (the OIDC plugin of the same name), not Azure kubelogin: put this kubelogin first on PATH`,
  notGetToken: "the exec args do not start with get-token",
  overrode: (name: string, flag: string) => `${name} in the environment overrides ${flag} from the kubeconfig (environment variables beat flags; --disable-environment-override stops that)`,
  cacheUnwritable: (dir: string, why: string) => `the cache dir ${dir} is not writable (${why}): every call signs in again`,
  cacheNotPrivate: (dir: string, mode: string) => `the cache dir ${dir} is readable by others (mode ${mode}); kubelogin creates it 0700`,
  cacheOwner: (dir: string) => `the cache dir ${dir} belongs to another user`,
  cacheShared: (dir: string, why: string) => `the cache dir ${dir} is not this user's alone (${why}): kubelogin neither reads nor writes its cache there, so every call signs in again`,
  untrustedFile: (path: string, why: string) => `kubelogin does not use ${path} (${why}): remove it`,
  staleLocks: (count: number) => `${count} stale lock file(s) left by crashed runs (they are broken automatically)`,
  corrupt: (count: number) => `${count} unreadable token cache entr${count === 1 ? "y" : "ies"} (set aside at the next call)`,
  audMismatch: (aud: string, serverId: string) => `the token's audience ${aud} is not the server id ${serverId}: the cluster answers "Unauthorized"; check --server-id`,
  issMismatch: (iss: string, tenant: string) => `the token's issuer ${iss} is not tenant ${tenant}`,
  overage: "the token carries no groups (groups overage: the user is in too many); the cluster must look them up",
  getTokenFailed: (why: string) => `get-token failed: ${why}`,
  found: (problems: number) => `doctor found ${problems} problem${problems === 1 ? "" : "s"}`,
  badOutput: (value: string) => `invalid output format ${JSON.stringify(value)}: use text or json`,
} as const;

const DOCTOR_OPTIONS = [
  CONVERT_ONLY_OPTIONS[0],
  CONVERT_ONLY_OPTIONS[1],
  { key: "output", flag: "--output", short: "-o", type: "string", help: "output format: text or json" },
  { key: "getToken", flag: "--get-token", type: "bool", help: "also sign in as kubectl would and show the token's decoded claims (never the token)" },
  ...GLOBAL_OPTIONS,
] as const satisfies readonly OptionSpec[];

/** A report with problems: the report is on stdout, this one line on stderr, exit 1. */
export class DoctorProblemsError extends KubeloginError {}

export interface PluginInfo {
  readonly command: string;
  /** Where kubectl would find it; null when it would not. */
  readonly path: string | null;
  readonly kind: "this kubelogin" | "another Node kubelogin" | "Azure kubelogin (Go)" | "int128 kubelogin (OIDC)" | "unknown" | "not found";
}

export interface DoctorReport {
  readonly version: 1;
  readonly kubeconfig: readonly string[];
  readonly context: { readonly name: string; readonly cluster: string; readonly user: string; readonly server: string } | null;
  readonly exec: {
    readonly apiVersion: string;
    readonly command: string;
    readonly args: readonly string[];
    readonly env: readonly { readonly name: string; readonly value: string }[];
    readonly interactiveMode: string;
  } | null;
  readonly plugin: PluginInfo | null;
  readonly options: readonly { readonly flag: string; readonly value: string; readonly source: string }[];
  readonly cache: {
    readonly backend: CacheBackend;
    /** Where the long-lived entries (refresh tokens, PoP key) are, and why: the same line get-token logs at -v 1. */
    readonly longLived: string;
    readonly dir: string;
    readonly writable: boolean;
    readonly staleLocks: number;
    readonly corruptEntries: number;
    readonly token: { readonly state: "fresh" | "expiring" | "none"; readonly expiresOn: string | null };
  } | null;
  readonly network: Readonly<Record<string, string | null>>;
  readonly token: {
    readonly aud: string;
    readonly iss: string;
    readonly tid: string | null;
    readonly oid: string | null;
    readonly upn: string | null;
    readonly appid: string | null;
    readonly expiresOn: string | null;
    readonly groups: number | "overage" | null;
    readonly pop: boolean;
  } | null;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

const SECRET_FLAGS: ReadonlySet<string> = new Set<string>(GET_TOKEN_OPTIONS.filter((o) => "secret" in o && o.secret).map((o) => o.flag));
const SECRET_ENV = new Set(GET_TOKEN_OPTIONS.filter((o) => "secret" in o && o.secret).flatMap((o) => ("env" in o ? o.env.map((rule) => rule.name) : [])));
/** What the logins register for redaction besides the options (login/msi.ts, azurepipelines.ts, workloadidentity.ts). */
const LOGIN_SECRET_ENV: ReadonlySet<string> = new Set(["IDENTITY_HEADER", "MSI_SECRET", "SYSTEM_ACCESSTOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"]);
const isSecretEnv = (name: string): boolean => SECRET_ENV.has(name) || LOGIN_SECRET_ENV.has(name) || /SECRET|PASSWORD|TOKEN/i.test(name);
const NETWORK_ENV = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"];

/** Secret flag values become ***, in both `--flag value` and `--flag=value` forms. */
export function maskArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (SECRET_FLAGS.has(flag) && inline !== undefined) return `${flag}=***`;
    return i > 0 && SECRET_FLAGS.has(args[i - 1]!) && !args[i - 1]!.includes("=") ? "***" : arg;
  });
}

/** Credentials inside a URL (user:password@, a proxy's) are masked too, the user name with them. */
function maskUrlCredentials(value: string): string {
  return value.replace(/\/\/[^/@\s]+@/g, "//***@");
}

/** An environment value as shown: masked whole when its name is a secret's or the redaction layer would hide any of it (a token). */
function shownEnvValue(name: string, value: string): string {
  return isSecretEnv(name) || redact(value) !== value ? "***" : maskUrlCredentials(value);
}

async function classifyPlugin(command: string, env: Env, self: string): Promise<PluginInfo> {
  const candidates = command.includes("/")
    ? [resolve(command)]
    : (env.PATH ?? "").split(delimiter).filter((dir) => dir !== "").map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if (!(await stat(candidate)).isFile()) continue;
    } catch {
      continue;
    }
    return { command, path: candidate, kind: await kindOf(candidate, self) };
  }
  return { command, path: null, kind: "not found" };
}

async function kindOf(path: string, self: string): Promise<PluginInfo["kind"]> {
  const [real, selfReal] = await Promise.all([realpath(path), realpath(self).catch(() => self)]);
  if (real === selfReal) return "this kubelogin";
  const handle = await open(real, "r");
  try {
    const head = Buffer.alloc(256);
    await handle.read(head, 0, 256, 0);
    if (head.subarray(0, 2).toString() === "#!" && /node/.test(head.toString("utf8").split("\n")[0] ?? "")) return "another Node kubelogin";
    const content = await handle.readFile();
    // Go binaries carry their module paths.
    if (content.includes("github.com/int128/kubelogin")) return "int128 kubelogin (OIDC)";
    if (content.includes("github.com/Azure/kubelogin")) return "Azure kubelogin (Go)";
    return "unknown";
  } finally {
    await handle.close();
  }
}

interface CacheHealth {
  writable: boolean;
  /** Only this user could have written it: the files in it are worth checking one by one. */
  ownOnly: boolean;
  problems: string[];
  warnings: string[];
}

/** Checked without writing: the nearest existing ancestor must be a directory this user can write. */
async function cacheDirHealth(dir: string, uid: number | undefined): Promise<CacheHealth> {
  const problems: string[] = [];
  const warnings: string[] = [];
  let existing = resolve(dir);
  let info = await stat(existing).catch(() => undefined);
  while (info === undefined && dirname(existing) !== existing) {
    existing = dirname(existing);
    info = await stat(existing).catch(() => undefined);
  }
  let why: string | undefined;
  if (info === undefined) why = "no existing parent";
  else if (!info.isDirectory()) why = `${existing} is not a directory`;
  else if (await access(existing, constants.W_OK | constants.X_OK).then(() => false, () => true)) why = `${existing} is not writable`;
  if (why !== undefined) problems.push(messages.cacheUnwritable(dir, why));
  let ownOnly = true;
  if (why === undefined && info !== undefined && existing === resolve(dir)) {
    if ((info.mode & 0o077) !== 0) warnings.push(messages.cacheNotPrivate(dir, `0${(info.mode & 0o777).toString(8)}`));
    const shared = foreignWriter(info, uid);
    ownOnly = shared === undefined;
    if (uid !== undefined && info.uid !== uid) problems.push(messages.cacheOwner(dir));
    else if (shared !== undefined) problems.push(messages.cacheShared(dir, shared));
  }
  return { writable: why === undefined, ownOnly, problems, warnings };
}

/** What kubelogin reads back from the cache dir: token entries, the fast path's indexes, auth records, MSAL's blobs. */
const CACHE_FILE = /^(?:token-[^/]+|fast-[0-9a-f]{32}|auth(?:-[0-9a-f]{40})?|msal-[^/]+)\.json$/;

async function cacheEntries(dir: string, now: number, uid: number | undefined): Promise<{ staleLocks: number; corrupt: number; untrusted: string[] }> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let staleLocks = 0;
  let corrupt = 0;
  const untrusted: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (CACHE_FILE.test(name)) {
      const info = await lstat(path).catch(() => undefined);
      const why = info === undefined ? undefined : info.isFile() ? foreignWriter(info, uid) : "it is not a regular file";
      if (why !== undefined) untrusted.push(messages.untrustedFile(path, why));
    }
    if (name.endsWith(".lock")) {
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_MS) staleLocks++;
    } else if (/^token-[^/]+\.json$/.test(name)) {
      const text = await readFileText(path);
      if (text !== null && parseTokenEntry(text, now).kind === "corrupt") corrupt++;
    }
  }
  return { staleLocks, corrupt, untrusted };
}

/** A FIFO or a device where an entry was must not hang doctor, nor a file someone else wrote be trusted. */
async function readFileText(path: string): Promise<string | null> {
  const read = await readCacheFile(path, process.getuid?.(), MAX_ENTRY_BYTES).catch(() => undefined);
  return read?.kind === "text" ? read.text : null;
}

function claimsOf(jwt: string): Record<string, unknown> | undefined {
  try {
    const claims: unknown = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8"));
    return isMap(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

/** A token as a report: what it says, never what it is. A PoP envelope is opened to its inner token. */
export function describeToken(token: string): NonNullable<DoctorReport["token"]> {
  const outer = claimsOf(token) ?? {};
  const pop = typeof outer.at === "string";
  const claims = (pop ? claimsOf(outer.at as string) : outer) ?? {};
  const aud = Array.isArray(claims.aud) ? claims.aud.join(",") : String(claims.aud ?? "");
  const names = isMap(claims._claim_names) ? claims._claim_names : {};
  const groups = Array.isArray(claims.groups) ? claims.groups.length : "groups" in names || claims.hasgroups === true ? "overage" : null;
  return {
    aud,
    iss: String(claims.iss ?? ""),
    tid: text(claims.tid),
    oid: text(claims.oid),
    upn: text(claims.upn) ?? text(claims.preferred_username) ?? text(claims.unique_name),
    appid: text(claims.appid) ?? text(claims.azp),
    expiresOn: typeof claims.exp === "number" ? new Date(claims.exp * 1000).toISOString() : null,
    groups,
    pop,
  };
}

function audienceMatches(aud: string, serverId: string): boolean {
  const bare = (value: string): string => value.replace(/^spn:/, "").replace(/\/\.default$/, "").replace(/\/$/, "");
  return aud.split(",").some((one) => bare(one) === bare(serverId));
}

/** The buffered stdout get-token writes its ExecCredential to, inside doctor. */
function captureOutput(): Output & { text(): string } {
  let captured = "";
  return {
    write(chunk: string) {
      captured += chunk;
    },
    text: () => captured,
  };
}

export async function diagnose(args: readonly string[], ctx: CommandContext): Promise<DoctorReport> {
  const { rt } = ctx;
  const parsed = parseFlags(args, DOCTOR_OPTIONS);
  const problems: string[] = [];
  const warnings: string[] = [];
  const network = Object.fromEntries(NETWORK_ENV.filter((name) => rt.env[name] !== undefined).map((name) => [name, maskUrlCredentials(rt.env[name] ?? "")]));
  const base = { version: 1 as const, exec: null, plugin: null, options: [], cache: null, network, token: null };

  const loaded = await loadKubeconfig({ explicitPath: String(parsed.values.kubeconfig ?? ""), env: rt.env, homedir: rt.homedir });
  // client-go: the first file that sets current-context, and the first file that defines a cluster, win.
  const docs = loaded.files.map((file) => file.doc as YamlMap);
  const clusters = docs.flatMap((doc) => (Array.isArray(doc.clusters) ? [...doc.clusters].reverse() : []));
  const merged: YamlMap = { ...loaded.merged, clusters };
  const files = loaded.files.map((file) => file.path);
  const currentContext = docs.map((doc) => stringField(doc, "current-context")).find((name) => name !== "") ?? "";
  const contextName = String(parsed.values.context ?? "") || currentContext;
  // Problems quote errors, and errors may quote an input: the report is made to be pasted into issues.
  const scrub = (lines: readonly string[]): string[] => lines.map((line) => maskUrlCredentials(redact(line, ctx.log.secrets)));
  const finish = (partial: Partial<DoctorReport>): DoctorReport => ({ ...base, kubeconfig: files, context: null, ...partial, problems: scrub(problems), warnings: scrub(warnings) });
  if (contextName === "") {
    problems.push(messages.noCurrentContext);
    return finish({});
  }
  const named = (list: unknown, name: string): YamlMap | undefined =>
    (Array.isArray(list) ? list : []).find((entry): entry is YamlMap => isMap(entry) && entry.name === name);
  const contextEntry = named(merged.contexts, contextName);
  if (!contextEntry) {
    problems.push(messages.noContext(contextName));
    return finish({});
  }
  const contextBody = isMap(contextEntry.context) ? contextEntry.context : {};
  const userName = stringField(contextBody, "user");
  const clusterName = stringField(contextBody, "cluster");
  const clusterEntry = named(merged.clusters, clusterName);
  const server = stringField(clusterEntry && isMap(clusterEntry.cluster) ? clusterEntry.cluster : {}, "server");
  const context = { name: contextName, cluster: clusterName, user: userName, server };
  if (userName === "") {
    problems.push(messages.noUser(contextName));
    return finish({ context });
  }
  const userEntry = named(merged.users, userName);
  const execStanza = userEntry && isMap(userEntry.user) && isMap(userEntry.user.exec) ? userEntry.user.exec : undefined;
  if (!execStanza) {
    problems.push(messages.notExec(userName));
    return finish({ context });
  }
  const execArgs = (Array.isArray(execStanza.args) ? execStanza.args : []).map(String);
  const execEnv = (Array.isArray(execStanza.env) ? execStanza.env : []).filter(isMap).map((entry) => ({ name: String(entry.name ?? ""), value: String(entry.value ?? "") }));
  ctx.log.addSecrets(execEnv.filter(({ name }) => isSecretEnv(name)).map(({ value }) => value));
  const command = stringField(execStanza, "command");
  const exec = {
    apiVersion: stringField(execStanza, "apiVersion"),
    command,
    args: maskArgs(execArgs).map(maskUrlCredentials),
    env: execEnv.map(({ name, value }) => ({ name, value: shownEnvValue(name, value) })),
    interactiveMode: stringField(execStanza, "interactiveMode"),
  };
  // kubectl runs the plugin with its own environment plus the stanza's.
  const pluginEnv: Env = { ...rt.env, ...Object.fromEntries(execEnv.map(({ name, value }) => [name, value])) };
  const plugin = await classifyPlugin(command, pluginEnv, fileURLToPath(new URL("../main.js", import.meta.url)));
  if (!/(^|\/)kubelogin(\.exe)?$/.test(command)) problems.push(messages.notKubelogin(command));
  else if (plugin.kind === "not found") problems.push(messages.notFound(command));
  else if (plugin.kind === "int128 kubelogin (OIDC)") problems.push(messages.int128(plugin.path ?? command));
  if (execArgs[0] !== "get-token") {
    problems.push(messages.notGetToken);
    return finish({ context, exec, plugin });
  }

  let resolved: ResolvedOptions;
  try {
    resolved = resolveOptions(parseFlags(execArgs.slice(1), [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS]), pluginEnv, rt.homedir);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
    return finish({ context, exec, plugin });
  }
  ctx.log.addSecrets(GET_TOKEN_OPTIONS.filter((o) => "secret" in o && o.secret).map((o) => String(resolved.options[o.key])).filter((v) => v !== ""));
  const options = GET_TOKEN_OPTIONS.filter((spec) => !("aliasOf" in spec)).map((spec) => {
    const value = resolved.options[spec.key];
    const origin = resolved.provenance[spec.key];
    if (origin.kind === "env" && origin.overrode) problems.push(messages.overrode(origin.name, origin.overrode));
    const shown = "secret" in spec && spec.secret ? (value ? "***" : "") : spec.type === "duration" ? formatGoDuration(Number(value)) : maskUrlCredentials(String(value));
    return { flag: spec.flag, value: shown, source: describeOrigin(origin) };
  });

  let validated;
  try {
    validated = validateOptions(resolved.options, resolved.provenance);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
    return finish({ context, exec, plugin, options });
  }
  const o = validated;
  let stores;
  try {
    const backendOrigin = describeOrigin(resolved.provenance.cacheBackend);
    stores = createStores({ cacheDir: o.cacheDir, now: rt.clock.now, backend: parseCacheBackend(o.cacheBackend, backendOrigin), backendOrigin, env: pluginEnv });
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
    return finish({ context, exec, plugin, options });
  }
  const health = await cacheDirHealth(o.cacheDir, process.getuid?.());
  problems.push(...health.problems);
  warnings.push(...health.warnings);
  const entries = await cacheEntries(o.cacheDir, rt.clock.now(), process.getuid?.());
  // In a shared dir its own problem says it all: none of the files in it is used.
  if (health.ownOnly) problems.push(...entries.untrusted);
  if (entries.staleLocks > 0) warnings.push(messages.staleLocks(entries.staleLocks));
  if (entries.corrupt > 0) warnings.push(messages.corrupt(entries.corrupt));
  let tokenState: NonNullable<DoctorReport["cache"]>["token"] = { state: "none", expiresOn: null };
  let planned = false;
  if (o.serverId === "") problems.push("server-id is required");
  else {
    try {
      const strategy = await loadStrategy(o.loginMethod);
      const plan = await strategy.plan(o, { env: pluginEnv, homedir: rt.homedir, cacheDir: o.cacheDir, state: stores.longLived });
      problems.push(...plan.warnings);
      planned = true;
      const read = parseTokenEntry(await readFileText(join(o.cacheDir, tokenEntryName(plan.cacheKey))), rt.clock.now());
      if (read.kind === "hit") {
        tokenState = { state: isFresh(read.token, rt.clock.now()) ? "fresh" : "expiring", expiresOn: new Date(read.token.expiresOn).toISOString() };
      }
    } catch (err) {
      problems.push(`failed to create azidentity credential: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const cache = { backend: parseCacheBackend(o.cacheBackend, ""), longLived: await stores.describe(), dir: o.cacheDir, writable: health.writable, staleLocks: entries.staleLocks, corruptEntries: entries.corrupt, token: tokenState };

  let token: DoctorReport["token"] = null;
  if (parsed.values.getToken === true && planned) {
    const stdout = captureOutput();
    const runtime: Runtime = { ...rt, env: pluginEnv, stdout };
    try {
      await getToken({ options: validated, provenance: resolved.provenance }, { rt: runtime, log: ctx.log });
      const credential = JSON.parse(stdout.text()) as { status?: { token?: string } };
      token = describeToken(credential.status?.token ?? "");
      if (!audienceMatches(token.aud, o.serverId)) problems.push(messages.audMismatch(token.aud, o.serverId));
      const tenant = o.tenantId.toLowerCase();
      if (/^[0-9a-f-]{36}$/.test(tenant) && !token.iss.toLowerCase().includes(tenant)) problems.push(messages.issMismatch(token.iss, o.tenantId));
      if (token.groups === "overage") warnings.push(messages.overage);
    } catch (err) {
      problems.push(messages.getTokenFailed(err instanceof Error ? err.message : String(err)));
    }
  }
  return finish({ context, exec, plugin, options, cache, token });
}

export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  const section = (title: string): void => void lines.push("", `${title}:`);
  const row = (label: string, value: string): void => void lines.push(`  ${label}: ${value}`);
  lines.push(`kubeconfig: ${report.kubeconfig.join(delimiter) || "(none)"}`);
  if (report.context) {
    lines.push(`context: ${report.context.name} (cluster ${report.context.cluster || "?"}, user ${report.context.user || "?"})`);
    lines.push(`server: ${report.context.server || "(none)"}`);
  }
  if (report.exec) {
    section("exec plugin");
    row("apiVersion", report.exec.apiVersion || "(none)");
    row("command", report.exec.command);
    if (report.plugin) row("resolves to", report.plugin.path ? `${report.plugin.path} (${report.plugin.kind})` : "nothing on PATH");
    row("args", report.exec.args.join(" "));
    if (report.exec.env.length > 0) row("env", report.exec.env.map(({ name, value }) => `${name}=${value}`).join(" "));
    if (report.exec.interactiveMode) row("interactiveMode", report.exec.interactiveMode);
  }
  if (report.options.length > 0) {
    section("options (as get-token resolves them)");
    for (const option of report.options) lines.push(`  ${option.flag.slice(2)}=${option.value === "" ? '""' : option.value}  [${option.source}]`);
  }
  if (report.cache) {
    section("cache");
    row("backend", `${report.cache.backend} in ${report.cache.dir}`);
    row("long-lived", report.cache.longLived);
    row("writable", report.cache.writable ? "yes" : "no");
    row("stale locks", String(report.cache.staleLocks));
    row("unreadable entries", String(report.cache.corruptEntries));
    const cached = report.cache.token;
    row("token for this context", cached.state === "none" ? "none cached" : `cached until ${cached.expiresOn}${cached.state === "expiring" ? " (too close to expiry to be served)" : ""}`);
  }
  section("network");
  const network = Object.entries(report.network);
  if (network.length === 0) lines.push("  no proxy or CA variables set");
  for (const [name, value] of network) row(name, value ?? "");
  if (report.token) {
    section(`token claims${report.token.pop ? " (PoP: the inner access token)" : ""}`);
    for (const key of ["aud", "iss", "tid", "oid", "upn", "appid", "expiresOn"] as const) row(key, report.token[key] ?? "(none)");
    row("groups", report.token.groups === null ? "(none)" : String(report.token.groups));
  }
  lines.push("");
  for (const problem of report.problems) lines.push(`problem: ${problem}`);
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  if (report.problems.length === 0) lines.push(`no problems found${report.warnings.length > 0 ? ` (${report.warnings.length} warning${report.warnings.length === 1 ? "" : "s"})` : ""}`);
  return `${lines.join("\n")}\n`;
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "Explain a kubeconfig context: the exec plugin, resolved options, cache and token claims",
  options: DOCTOR_OPTIONS,
  async run(args, ctx) {
    const output = String(parseFlags(args, DOCTOR_OPTIONS).values.output ?? "text") || "text";
    if (output !== "text" && output !== "json") throw new UsageError(messages.badOutput(output));
    const report = await diagnose(args, ctx);
    ctx.rt.stdout.write(output === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    if (report.problems.length > 0) throw new DoctorProblemsError(messages.found(report.problems.length));
  },
};
