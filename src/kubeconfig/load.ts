// client-go's loading rules as convert-kubeconfig uses them (compat spec §5.1): --kubeconfig, else
// every file in KUBECONFIG, else ~/.kube/config; merged so that the first file defining a name wins,
// with each user remembering the file it came from.
import { readFile, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { KubeconfigError } from "../errors.js";
import type { Env } from "../options/resolve.js";
import { goPathError, isErrno } from "../os-error.js";
import { decodeKubeconfigFile, loadError, parseKubeconfig, type KubeconfigDoc, type NamedContext, type NamedUser } from "./model.js";

export interface KubeconfigFile {
  readonly path: string;
  readonly doc: KubeconfigDoc;
}

export interface LoadedKubeconfig {
  /** Files in precedence order, as far as they exist. */
  readonly files: readonly KubeconfigFile[];
  /** The merged raw config. Its entries are the files' own objects, so editing one edits its file's document. */
  readonly merged: KubeconfigDoc;
  /** The file each merged user was loaded from: where a converted user is written back. */
  readonly origins: ReadonlyMap<string, string>;
}

export interface LoadRequest {
  /** --kubeconfig; "" when not given. */
  readonly explicitPath: string;
  readonly env: Env;
  readonly homedir: string;
  /** KUBECONFIG list separator; the platform's (":" or ";") unless a test says otherwise. */
  readonly separator?: string;
  /** klog's "Config not found" warning when every KUBECONFIG file is missing. */
  readonly warn?: (message: string) => void;
}

/** The files to read, in precedence order. */
export function kubeconfigPaths(request: Pick<LoadRequest, "explicitPath" | "env" | "homedir" | "separator">): string[] {
  if (request.explicitPath !== "") return [request.explicitPath];
  const list = request.env.KUBECONFIG ?? "";
  if (list === "") return [join(request.homedir, ".kube", "config")];
  return [...new Set(list.split(request.separator ?? delimiter))].filter((path) => path !== "");
}

export async function loadKubeconfig(request: LoadRequest): Promise<LoadedKubeconfig> {
  const explicit = request.explicitPath !== "";
  if (explicit) {
    try {
      await stat(request.explicitPath);
    } catch (err) {
      if (isErrno(err, "ENOENT")) {
        throw new KubeconfigError(`unable to load kubeconfig: ${goPathError(err, "stat", request.explicitPath)}`, {
          hint: "check the --kubeconfig path",
          cause: err,
        });
      }
    }
  }
  const paths = kubeconfigPaths(request);
  const files: KubeconfigFile[] = [];
  const missing: string[] = [];
  for (const path of paths) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if (isErrno(err, "ENOENT") && !explicit) {
        missing.push(path);
        continue;
      }
      throw loadError(path, goPathError(err, undefined, path), err);
    }
    files.push({ path, doc: parseKubeconfig(decodeKubeconfigFile(bytes, path).text, path) });
  }
  if (request.env.KUBECONFIG && !explicit && files.length === 0 && missing.length > 0) {
    request.warn?.(`Config not found: ${missing.join(", ")}`);
  }
  return { files, ...mergeKubeconfigs(files) };
}

/** client-go: within a file the last entry of a name counts; across files the first file wins. */
export function mergeKubeconfigs(files: readonly KubeconfigFile[]): Pick<LoadedKubeconfig, "merged" | "origins"> {
  const users = new Map<string, NamedUser>();
  const contexts = new Map<string, NamedContext>();
  const origins = new Map<string, string>();
  for (const file of files) {
    for (const [name, user] of lastByName(file.doc.users)) {
      if (users.has(name)) continue;
      users.set(name, user);
      origins.set(name, file.path);
    }
    for (const [name, context] of lastByName(file.doc.contexts)) {
      if (!contexts.has(name)) contexts.set(name, context);
    }
  }
  return { merged: { users: [...users.values()], contexts: [...contexts.values()] }, origins };
}

function lastByName<T extends { name?: string }>(list: readonly T[] | null | undefined): Map<string, T> {
  const byName = new Map<string, T>();
  for (const entry of list ?? []) {
    const name = entry.name ?? "";
    byName.delete(name);
    byName.set(name, entry);
  }
  return byName;
}
