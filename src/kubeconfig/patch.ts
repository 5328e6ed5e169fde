// Edits a kubeconfig's text at the YAML-node level: only `users[i].user.exec` and `auth-provider`
// of the converted users change. Untouched values keep their exact spelling (quotes, `1.0`, big
// integers, anchors, flow style), which a load-then-dump round trip would not. Comments are lost,
// as they are upstream (client-go re-serialises the whole file).
import { isDeepStrictEqual } from "node:util";
import {
  COLLECTION_STYLE,
  DUMP_SCHEMA,
  eventsToAst,
  jsToAst,
  load,
  parseEvents,
  present,
  SCALAR_STYLE,
  YAML11_SCHEMA,
  YAMLException,
  type Document,
  type MappingNode,
  type Node,
} from "js-yaml";
import { KubeconfigError } from "../errors.js";
import { applyExec, loadError, parseKubeconfig, YAML_SCHEMA, type ExecConfig, type KubeconfigDoc } from "./model.js";

export interface UserPatch {
  readonly name: string;
  readonly exec: ExecConfig;
}

/** The file's new text, or the same text when the patches change nothing. Throws rather than emit a file that reads back differently. */
export function patchKubeconfigText(text: string, path: string, patches: readonly UserPatch[]): string {
  const expected = parseKubeconfig(text, path);
  for (const patch of patches) {
    const user = lastUser(expected, patch.name);
    if (!user) throw userGone(path, patch.name);
    applyExec(user, patch.exec);
  }
  if (isDeepStrictEqual(expected, parseKubeconfig(text, path))) return text;

  const documents = parseAst(text, path);
  const users = usersNode(documents, path);
  for (const patch of patches) patchUserNode(users, patch, path);
  // The parse schema, so scalars already in the file keep their exact spelling: DUMP_SCHEMA would
  // quote a plain `yes` that Go reads as a boolean, changing its meaning for kubectl.
  const output = present(documents, {
    schema: YAML_SCHEMA,
    indent: 2,
    lineWidth: -1,
    seqNoIndent: usesUnindentedSequences(text),
  });
  if (!isDeepStrictEqual(parseKubeconfig(output, path), expected)) {
    throw new KubeconfigError(`unable to write kubeconfig ${path}: re-serialising it would change more than the converted users`, {
      hint: "nothing was written; please report this with the file's structure (no secrets) at the project's issue tracker",
    });
  }
  return output;
}

function lastUser(doc: KubeconfigDoc, name: string): Record<string, unknown> | undefined {
  const entry = (doc.users ?? []).filter((u) => (u.name ?? "") === name).at(-1);
  return entry?.user ?? undefined;
}

function userGone(path: string, name: string): KubeconfigError {
  return new KubeconfigError(`unable to write kubeconfig ${path}: user ${JSON.stringify(name)} is no longer in it`, {
    hint: "the file changed while converting; nothing was written, run the command again",
  });
}

function parseAst(text: string, path: string): Document[] {
  try {
    return eventsToAst(parseEvents(text, { filename: path }), { source: text, schema: YAML_SCHEMA });
  } catch (err) {
    const detail = err instanceof YAMLException && err.mark ? `yaml: line ${err.mark.line + 1}: ${err.reason}` : String(err);
    throw loadError(path, detail, err);
  }
}

function scalarText(node: Node): string | undefined {
  if (node.kind !== "scalar") return undefined;
  return node.tag.endsWith(":null") ? "" : node.value;
}

function pairIndex(map: MappingNode, key: string): number {
  return map.items.findLastIndex((item) => scalarText(item.key) === key);
}

/** An entry's `name`, "" when absent or null (as Go decodes it). */
function nameOf(entry: MappingNode): string | undefined {
  const at = pairIndex(entry, "name");
  return at === -1 ? "" : scalarText(entry.items[at]!.value);
}

function usersNode(documents: Document[], path: string): Node {
  const root = documents[0]?.contents;
  const at = root?.kind === "mapping" ? pairIndex(root, "users") : -1;
  if (root?.kind !== "mapping" || at === -1) throw unsupported(path, "users");
  return root.items[at]!.value;
}

function patchUserNode(users: Node, patch: UserPatch, path: string): void {
  if (users.kind !== "sequence") throw unsupported(path, "users");
  const entry = users.items.findLast((item) => item.kind === "mapping" && nameOf(item) === patch.name);
  if (!entry || entry.kind !== "mapping") throw userGone(path, patch.name);
  const userAt = pairIndex(entry, "user");
  const user = userAt === -1 ? undefined : entry.items[userAt]!.value;
  if (user?.kind !== "mapping") throw unsupported(path, `users[name=${patch.name}].user`);

  const fresh = jsToAst({ exec: patch.exec }, DUMP_SCHEMA)[0]?.contents;
  if (fresh?.kind !== "mapping" || !fresh.items[0]) throw unsupported(path, "exec");
  const execPair = fresh.items[0];
  quoteForYaml11(execPair.value);
  if (user.style === COLLECTION_STYLE.FLOW) setFlow(execPair.value);
  const slot = user.items.findIndex((item) => ["exec", "auth-provider"].includes(scalarText(item.key) ?? ""));
  user.items = user.items.filter((item) => !["exec", "auth-provider"].includes(scalarText(item.key) ?? ""));
  user.items.splice(slot === -1 ? user.items.length : slot, 0, execPair);
}

/**
 * kubectl reads kubeconfigs with Go's YAML 1.1 decoder, where a plain `yes`, `on` or `2001-12-14`
 * is not a string; quote such values in the stanza we write.
 */
function quoteForYaml11(node: Node): void {
  if (node.kind === "mapping") for (const item of node.items) quoteForYaml11(item.value);
  else if (node.kind === "sequence") node.items.forEach(quoteForYaml11);
  else if (node.kind === "scalar" && node.tag.endsWith(":str") && !node.value.includes("\n") && !readsAsSameString(node.value)) {
    node.style = SCALAR_STYLE.SINGLE_QUOTED;
  }
}

function readsAsSameString(value: string): boolean {
  try {
    return load(value, { schema: YAML11_SCHEMA }) === value;
  } catch {
    return false;
  }
}

/** A block collection cannot sit inside a flow mapping. */
function setFlow(node: Node): void {
  if (node.kind === "mapping") {
    node.style = COLLECTION_STYLE.FLOW;
    for (const item of node.items) setFlow(item.value);
  } else if (node.kind === "sequence") {
    node.style = COLLECTION_STYLE.FLOW;
    node.items.forEach(setFlow);
  }
}

function unsupported(path: string, where: string): KubeconfigError {
  return new KubeconfigError(`unable to write kubeconfig ${path}: cannot edit ${where} (a YAML alias or an unexpected shape)`, {
    hint: "nothing was written; expand the alias or convert this user by hand",
  });
}

/** kubectl and Go write `- ` flush with the parent key; keep whichever style the file already uses. */
function usesUnindentedSequences(text: string): boolean {
  const flush = /^[^\s#][^\n]*:[ \t]*\r?\n-[ \t]/m.test(text);
  const indented = /^[^\s#][^\n]*:[ \t]*\r?\n[ \t]+-[ \t]/m.test(text);
  return flush || !indented;
}
