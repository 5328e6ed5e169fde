// The parts of a kubeconfig that convert-kubeconfig reads, checked as strictly as client-go's typed
// decode would (compat spec §5.1), so a file upstream refuses to load is refused here too. The rest
// of the document is kept exactly as parsed and never looked at.
import { CORE_SCHEMA, EVENT_ID, YAMLException, constructFromEvents, mergeTag, parseEvents, type Event } from "js-yaml";
import { KubeconfigError } from "../errors.js";
import { decodeKubeconfig, KubeconfigDecodeError, type DecodedKubeconfig } from "./encoding.js";

/** YAML 1.2 core plus `<<` merge keys, which Go's YAML decoder also understands. */
export const YAML_SCHEMA = CORE_SCHEMA.withTags(mergeTag);

export type YamlMap = { [key: string]: unknown };

export interface ExecEnvVar {
  name: string;
  value: string;
}

/** The exec stanza convert-kubeconfig writes, keys in the order Go serialises them (§5.4). */
export interface ExecConfig {
  apiVersion: string;
  args: string[];
  command: string;
  env: ExecEnvVar[] | null;
  installHint: string;
  provideClusterInfo: boolean;
}

export interface NamedUser extends YamlMap {
  name?: string;
  user?: YamlMap | null;
}

export interface NamedContext extends YamlMap {
  name?: string;
  context?: YamlMap | null;
}

export interface KubeconfigDoc extends YamlMap {
  users?: NamedUser[] | null;
  contexts?: NamedContext[] | null;
}

/** A kubeconfig file's bytes as text, read the way kubectl reads them (see encoding.ts). */
export function decodeKubeconfigFile(bytes: Uint8Array, path: string): DecodedKubeconfig {
  try {
    return decodeKubeconfig(bytes);
  } catch (err) {
    if (err instanceof KubeconfigDecodeError) throw loadError(path, err.message, err);
    throw err;
  }
}

/**
 * Parses one kubeconfig file; an empty file is an empty config, as in client-go. Like go-yaml v2,
 * a key repeated in a mapping is no error and the last one wins (`cat a >> b` makes such files),
 * and aliases are expanded: every user is its own value, so converting one never edits another.
 */
export function parseKubeconfig(text: string, path: string, events: Event[] = parseKubeconfigEvents(text, path)): KubeconfigDoc {
  let documents: unknown[];
  try {
    documents = constructFromEvents(events, { source: text, filename: path, schema: YAML_SCHEMA, json: true });
  } catch (err) {
    throw loadError(path, describeYamlError(err), err);
  }
  if (documents.length > 1) throw loadError(path, "expected a single YAML document, found " + documents.length);
  // Copying is the costly part of a large file; only a file with aliases has anything shared.
  // Stryker disable next-line EqualityOperator: a speed-up only, copying a document without aliases gives an equal one
  const shared = events.some((event) => event.type === EVENT_ID.ALIAS);
  const root = shared ? expandAliases(documents[0] ?? null, path) : (documents[0] ?? null);
  if (root === null) return {};
  if (!isMap(root)) throw loadError(path, `expected a mapping at the top level, got ${kindOf(root)}`);
  checkList(root, "users", path, (user, at) => {
    checkString(user, "name", at, path);
    const body = checkMap(user, "user", at, path);
    if (!body) return;
    const exec = checkMap(body, "exec", `${at}.user`, path);
    if (exec) {
      checkString(exec, "command", `${at}.user.exec`, path);
      checkString(exec, "installHint", `${at}.user.exec`, path);
      checkStringList(exec, "args", `${at}.user.exec`, path);
    }
    const provider = checkMap(body, "auth-provider", `${at}.user`, path);
    if (provider) {
      checkString(provider, "name", `${at}.user.auth-provider`, path);
      const config = checkMap(provider, "config", `${at}.user.auth-provider`, path);
      for (const key of Object.keys(config ?? {})) checkString(config!, key, `${at}.user.auth-provider.config`, path);
    }
  });
  checkList(root, "contexts", path, (context, at) => {
    checkString(context, "name", at, path);
    const body = checkMap(context, "context", at, path);
    if (body) checkString(body, "user", `${at}.context`, path);
  });
  return root as KubeconfigDoc;
}

/** The YAML event stream, which both the model (here) and the editable tree (patch.ts) are built from. */
export function parseKubeconfigEvents(text: string, path: string): Event[] {
  try {
    // No filename: describeYamlError words the error from its line and reason, loadError adds the path.
    return parseEvents(text, {});
  } catch (err) {
    throw loadError(path, describeYamlError(err), err);
  }
}

/** `error loading config file "<path>": <detail>` is client-go's wording; the loader adds upstream's prefix. */
export function loadError(path: string, detail: string, cause?: unknown): KubeconfigError {
  return new KubeconfigError(`unable to load kubeconfig: error loading config file "${path}": ${detail}`, {
    hint: `fix or remove ${path}; nothing was written`,
    cause,
  });
}

/**
 * js-yaml hands an alias back as the very object its anchor made; copy every shared value so the
 * document is a tree. Bounded as go-yaml v2 bounds alias expansion (a "billion laughs" file is
 * refused with its text instead of exhausting memory).
 */
function expandAliases(root: unknown, path: string): unknown {
  const seen = new Set<object>();
  let decodeCount = 0;
  let aliasCount = 0;
  const copy = (value: unknown, underAlias: boolean): unknown => {
    decodeCount++;
    if (underAlias) aliasCount++;
    if (
      // go-yaml's guards, kept as it has them: a ratio over 0.99 already needs thousands of nodes, nearly all aliased.
      // Stryker disable next-line EqualityOperator,LogicalOperator: see above, implied by the ratio below
      aliasCount > 100 &&
      // Stryker disable next-line EqualityOperator: see above, implied by the ratio below
      decodeCount > 1000 &&
      aliasCount / decodeCount > allowedAliasRatio(decodeCount)
    ) {
      throw loadError(path, "yaml: document contains excessive aliasing");
    }
    if (typeof value !== "object" || value === null) return value;
    const alias = underAlias || seen.has(value);
    seen.add(value);
    if (Array.isArray(value)) return value.map((item) => copy(item, alias));
    const out: YamlMap = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty only where assignment would set the prototype instead of a key.
      if (key === "__proto__") Object.defineProperty(out, key, { value: copy(item, alias), enumerable: true, writable: true, configurable: true });
      else out[key] = copy(item, alias);
    }
    return out;
  };
  return copy(root, false);
}

/** go-yaml v2's allowedAliasRatio: generous for small documents, 10% from four million nodes. */
export function allowedAliasRatio(decodeCount: number): number {
  // Stryker disable next-line EqualityOperator: at exactly 400,000 the formula below gives 0.99 too
  if (decodeCount <= 400_000) return 0.99;
  if (decodeCount >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decodeCount - 400_000) / 3_600_000);
}

function describeYamlError(err: unknown): string {
  if (err instanceof YAMLException) return err.mark ? `yaml: line ${err.mark.line + 1}: ${err.reason}` : `yaml: ${err.reason}`;
  return err instanceof Error ? err.message : String(err);
}

export function isMap(value: unknown): value is YamlMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (isMap(value)) return "a mapping";
  return `a ${typeof value}`;
}

function checkList(parent: YamlMap, key: string, path: string, each: (item: YamlMap, at: string) => void): void {
  const list = parent[key];
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw loadError(path, `${key}: expected a list, got ${kindOf(list)}`);
  list.forEach((item: unknown, i) => {
    const at = `${key}[${i}]`;
    if (!isMap(item)) throw loadError(path, `${at}: expected a mapping, got ${kindOf(item)}`);
    each(item, at);
  });
}

function checkMap(parent: YamlMap, key: string, at: string, path: string): YamlMap | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) throw loadError(path, `${at}.${key}: expected a mapping, got ${kindOf(value)}`);
  return value;
}

function checkString(parent: YamlMap, key: string, at: string, path: string): void {
  const value = parent[key];
  if (value !== undefined && value !== null && typeof value !== "string") {
    throw loadError(path, `${at}.${key}: expected a string, got ${kindOf(value)}`);
  }
}

function checkStringList(parent: YamlMap, key: string, at: string, path: string): void {
  const value = parent[key];
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw loadError(path, `${at}.${key}: expected a list of strings, got ${kindOf(value)}`);
  value.forEach((item: unknown, i) => {
    if (typeof item !== "string") throw loadError(path, `${at}.${key}[${i}]: expected a string, got ${kindOf(item)}`);
  });
}

/** A string field that may be absent or null in the document ("" then, as Go decodes it). */
export function stringField(parent: YamlMap | null | undefined, key: string): string {
  const value = parent?.[key];
  return typeof value === "string" ? value : "";
}

/**
 * Puts `exec` where the user's `exec` or `auth-provider` was and removes `auth-provider`; every
 * other field keeps its place and value. Mutates `user`.
 */
export function applyExec(user: YamlMap, exec: ExecConfig): void {
  const entries = Object.entries(user);
  const slot = entries.findIndex(([key]) => key === "exec" || key === "auth-provider");
  const kept = entries.filter(([key]) => key !== "exec" && key !== "auth-provider");
  kept.splice(slot === -1 ? kept.length : slot, 0, ["exec", exec]);
  for (const key of Object.keys(user)) delete user[key];
  for (const [key, value] of kept) user[key] = value;
}
