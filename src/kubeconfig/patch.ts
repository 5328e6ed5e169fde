// Edits a kubeconfig's text at the YAML-node level: only `users[i].user.exec` and `auth-provider`
// of the converted users change. Untouched values keep their exact spelling (quotes, `1.0`, big
// integers, anchors, flow style), which a load-then-dump round trip would not; only an alias that
// would carry the edit to another user is expanded, as client-go expands them all. Comments are
// lost, as they are upstream (client-go re-serialises the whole file).
import { isDeepStrictEqual } from "node:util";
import {
  DUMP_SCHEMA,
  eventsToAst,
  jsToAst,
  load,
  present,
  SCALAR_STYLE,
  YAML11_SCHEMA,
  type AliasNode,
  type Document,
  type MappingNode,
  type Node,
  type SequenceNode,
} from "js-yaml";
import { KubeconfigError } from "../errors.js";
import { applyExec, parseKubeconfig, parseKubeconfigEvents, YAML_SCHEMA, type ExecConfig, type KubeconfigDoc } from "./model.js";

export interface UserPatch {
  readonly name: string;
  readonly exec: ExecConfig;
}

/**
 * The file's new text, or the same text when the patches change nothing. Throws rather than emit a
 * file that reads back differently. Linear in the size of the file: users are found through one
 * index, never by a scan per patch.
 */
export function patchKubeconfigText(text: string, path: string, patches: readonly UserPatch[]): string {
  const events = parseKubeconfigEvents(text, path);
  const expected = parseKubeconfig(text, path, events);
  const expectedUsers = lastUsers(expected);
  let changes = false;
  for (const patch of patches) {
    const user = expectedUsers.get(patch.name);
    if (!user) throw userGone(path, patch.name);
    if ("auth-provider" in user || !isDeepStrictEqual(user.exec, patch.exec)) changes = true;
    applyExec(user, patch.exec);
  }
  if (!changes) return text;

  const documents = eventsToAst(events, { source: text, schema: YAML_SCHEMA });
  const aliases = resolveAliases(documents);
  const users = usersNode(documents, aliases);
  const targets = unshareUsers(documents, users, patches, aliases, path);
  // Stanzas repeat (every AKS cluster has the same server id); build each distinct one once.
  const stanzas = new Map<string, Node>();
  const execKey = jsToAst("exec", DUMP_SCHEMA)[0]!.contents!;
  patches.forEach((patch, i) => {
    const key = JSON.stringify(patch.exec);
    let stanza = stanzas.get(key);
    // Stryker disable next-line ConditionalExpression: building a stanza again gives an equal one (a speed-up)
    if (!stanza) stanzas.set(key, (stanza = execNode(patch.exec)));
    patchUserNode(targets[i]!, { key: cloneNode(execKey, aliases), value: cloneNode(stanza, aliases) });
  });
  // The parse schema, so scalars already in the file keep their exact spelling: DUMP_SCHEMA would
  // quote a plain `yes` that Go reads as a boolean, changing its meaning for kubectl.
  const output = present(documents, {
    schema: YAML_SCHEMA,
    indent: 2,
    lineWidth: -1,
    seqNoIndent: usesUnindentedSequences(text),
  });
  // A safety net for a bug here or in js-yaml: no known file reaches it.
  // Stryker disable next-line ConditionalExpression: the check never fails without such a bug
  if (!isDeepStrictEqual(parseKubeconfig(output, path), expected)) {
    // Stryker disable next-line all: unreachable without such a bug
    throw new KubeconfigError(`unable to write kubeconfig ${path}: re-serialising it would change more than the converted users`, {
      // Stryker disable next-line all: unreachable without such a bug
      hint: "nothing was written; please report this with the file's structure (no secrets) at the project's issue tracker",
    });
  }
  return output;
}

/** client-go keeps the last user of a name within a file. */
function lastUsers(doc: KubeconfigDoc): Map<string, Record<string, unknown>> {
  const byName = new Map<string, Record<string, unknown>>();
  doc.users?.forEach((entry) => {
    if (entry.user) byName.set(entry.name ?? "", entry.user);
  });
  return byName;
}

function userGone(path: string, name: string): KubeconfigError {
  return new KubeconfigError(`unable to write kubeconfig ${path}: user ${JSON.stringify(name)} is no longer in it`, {
    hint: "the file changed while converting; nothing was written, run the command again",
  });
}

type Aliases = Map<AliasNode, Node>;

/** Each alias's node: the latest anchor of its name before it, in document order (YAML's rule). */
function resolveAliases(documents: Document[]): Aliases {
  const aliases: Aliases = new Map();
  for (const document of documents) {
    const anchors = new Map<string, Node>();
    const visit = (node: Node): void => {
      if (node.kind === "alias") {
        // The parser refused an alias without an anchor before it.
        aliases.set(node, anchors.get(node.anchor)!);
        return;
      }
      // Stryker disable next-line ConditionalExpression: no alias names an undefined anchor
      if (node.anchor !== undefined) anchors.set(node.anchor, node);
      if (node.kind === "mapping") {
        for (const item of node.items) {
          visit(item.key);
          visit(item.value);
        }
      } else if (node.kind === "sequence") {
        node.items.forEach(visit);
      }
    };
    // A document without contents has no users: patchKubeconfigText returned before this runs.
    visit(document.contents!);
  }
  return aliases;
}

/** The node an alias names (an anchored node is never an alias itself); any other node is itself. */
function resolve(node: Node, aliases: Aliases): Node {
  return aliases.get(node as AliasNode) ?? node;
}

/** A copy of `node` without anchors (a second definition would capture later aliases); inner aliases stay aliases. */
function cloneNode(node: Node, aliases: Aliases): Node {
  if (node.kind === "alias") {
    const copy: AliasNode = { kind: "alias", anchor: node.anchor };
    const target = aliases.get(node);
    // Stryker disable next-line ConditionalExpression: only keys are resolved after copying, and kubeconfig keys are plain scalars
    if (target) aliases.set(copy, target);
    return copy;
  }
  const { anchor: _anchor, ...rest } = node;
  if (rest.kind === "mapping") return { ...rest, items: rest.items.map((item) => ({ key: cloneNode(item.key, aliases), value: cloneNode(item.value, aliases) })) };
  if (rest.kind === "sequence") return { ...rest, items: rest.items.map((item) => cloneNode(item, aliases)) };
  return rest;
}

/**
 * The `user` mapping of each patch's entry, made safe to edit in place. client-go expands aliases,
 * so converting one user never changes another that shared its node: an alias on the way to a
 * converted user becomes a copy of what it named, and an alias elsewhere that names a node about to
 * be edited becomes a copy of that node as it was. All copies are taken before any edit.
 */
function unshareUsers(documents: Document[], users: SequenceNode, patches: readonly UserPatch[], aliases: Aliases, path: string): MappingNode[] {
  // parseKubeconfig refused users that are not mappings and names that are not strings, and
  // lastUsers found each patch's name in this one document: the casts below never lie.
  const lastIndex = new Map<string, number>();
  users.items.forEach((item, i) => lastIndex.set(nameOf(resolve(item, aliases) as MappingNode, aliases), i));
  const edited = new Set<Node>([users, documents[0]!.contents!]);
  const targets = patches.map((patch) => {
    const at = lastIndex.get(patch.name)!;
    if (users.items[at]!.kind === "alias") users.items[at] = cloneNode(resolve(users.items[at]!, aliases), aliases);
    const entry = users.items[at] as MappingNode;
    // items[-1] is undefined: no user key.
    const pair = entry.items[pairIndex(entry, "user", aliases)];
    if (pair?.value.kind === "alias") pair.value = cloneNode(resolve(pair.value, aliases), aliases);
    if (pair?.value.kind !== "mapping") throw unsupported(path, `users[name=${patch.name}].user`);
    edited.add(entry).add(pair.value);
    return pair.value;
  });
  const expand = (node: Node): Node => {
    if (node.kind === "alias") {
      const target = resolve(node, aliases);
      return edited.has(target) ? cloneNode(target, aliases) : node;
    }
    if (node.kind === "mapping") for (const item of node.items) [item.key, item.value] = [expand(item.key), expand(item.value)];
    else if (node.kind === "sequence") node.items = node.items.map(expand);
    return node;
  };
  documents[0]!.contents = expand(documents[0]!.contents!);
  return targets;
}

function scalarText(node: Node, aliases: Aliases): string | undefined {
  const resolved = resolve(node, aliases);
  // Stryker disable next-line ConditionalExpression: kubeconfig keys are plain scalars (a collection key reads as no match either way)
  if (resolved.kind !== "scalar") return undefined;
  return resolved.tag.endsWith(":null") ? "" : resolved.value;
}

function pairIndex(map: MappingNode, key: string, aliases: Aliases = new Map()): number {
  return map.items.findLastIndex((item) => scalarText(item.key, aliases) === key);
}

/** An entry's `name`, "" when absent or null (as Go decodes it); parseKubeconfig refused any other kind. */
function nameOf(entry: MappingNode, aliases: Aliases): string {
  const at = pairIndex(entry, "name", aliases);
  return at === -1 ? "" : scalarText(entry.items[at]!.value, aliases)!;
}

/** The top-level `users` list; an alias there becomes a copy of the list it names. */
function usersNode(documents: Document[], aliases: Aliases): SequenceNode {
  // parseKubeconfig found a root mapping with a non-empty users list before this runs.
  const root = documents[0]!.contents as MappingNode;
  const pair = root.items[pairIndex(root, "users", aliases)]!;
  if (pair.value.kind === "alias") pair.value = cloneNode(resolve(pair.value, aliases), aliases);
  return pair.value as SequenceNode;
}

/** The `exec` stanza as YAML nodes, with what Go's YAML 1.1 would misread quoted. */
function execNode(exec: ExecConfig): Node {
  // jsToAst returns one document for an object.
  const node = jsToAst(exec, DUMP_SCHEMA)[0]!.contents!;
  quoteForYaml11(node);
  return node;
}

function patchUserNode(user: MappingNode, execPair: { key: Node; value: Node }): void {
  // Stryker disable next-line ConditionalExpression,StringLiteral: a key that is not a scalar matches neither name, whatever stands in for it
  const replaced = (item: { key: Node }): boolean => ["exec", "auth-provider"].includes(item.key.kind === "scalar" ? item.key.value : "");
  const slot = user.items.findIndex(replaced);
  user.items = user.items.filter((item) => !replaced(item));
  user.items.splice(slot === -1 ? user.items.length : slot, 0, execPair);
}

/**
 * kubectl reads kubeconfigs with Go's YAML 1.1 decoder, where a plain `yes`, `on` or `2001-12-14`
 * is not a string; quote such values in the stanza we write.
 */
function quoteForYaml11(node: Node): void {
  if (node.kind === "mapping") for (const item of node.items) quoteForYaml11(item.value);
  else if (node.kind === "sequence") node.items.forEach(quoteForYaml11);
  // Stryker disable next-line ConditionalExpression: the stanza holds mappings, sequences and scalars only
  else if (node.kind === "scalar" && node.tag.endsWith(":str") && !node.value.includes("\n") && !readsAsSameString(node.value)) {
    node.style = SCALAR_STYLE.SINGLE_QUOTED;
  }
}

/** Memoised: a file with 100,000 users repeats the same few values in every stanza. */
const sameStringCache = new Map<string, boolean>();

function readsAsSameString(value: string): boolean {
  let same = sameStringCache.get(value);
  // Stryker disable next-line ConditionalExpression: a memo, computing again gives the same answer
  if (same === undefined) {
    try {
      same = load(value, { schema: YAML11_SCHEMA }) === value;
      // Stryker disable next-line BlockStatement: an empty catch leaves `same` undefined, read as false too
    } catch {
      // Stryker disable next-line BooleanLiteral: js-yaml quotes a plain scalar it could not read back anyway
      same = false;
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the memo's bound, not its answers
    if (sameStringCache.size < 10_000) sameStringCache.set(value, same);
  }
  return same;
}

function unsupported(path: string, where: string): KubeconfigError {
  return new KubeconfigError(`unable to write kubeconfig ${path}: cannot edit ${where}: it is not a mapping or list as a kubeconfig has it`, {
    hint: "nothing was written; convert this user by hand",
  });
}

/** kubectl and Go write `- ` flush with the parent key; keep whichever style the file already uses. */
function usesUnindentedSequences(text: string): boolean {
  // Stryker disable next-line Regex: a `-` at column 0 after an indented or spaced key is not valid YAML, so these anchors never decide
  const flush = /^[^\s#][^\n]*:[ \t]*\r?\n-[ \t]/m.test(text);
  // Stryker disable next-line Regex: as above
  const indented = /^[^\s#][^\n]*:[ \t]*\r?\n[ \t]+-[ \t]/m.test(text);
  return flush || !indented;
}
