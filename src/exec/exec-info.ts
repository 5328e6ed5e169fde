// KUBERNETES_EXEC_INFO decides the ExecCredential apiVersion (compat spec §2.1). We parse it before
// any login (decision 5), so a bad value fails fast without a prompt or a network request.
import { ExecInfoError } from "../errors.js";

export const V1BETA1 = "client.authentication.k8s.io/v1beta1";
export const V1 = "client.authentication.k8s.io/v1";
export type ExecApiVersion = typeof V1BETA1 | typeof V1;

export interface ExecInfo {
  readonly apiVersion: ExecApiVersion;
  readonly interactive: boolean;
}

export function parseExecInfo(raw: string | undefined): ExecInfo {
  if (!raw) return { apiVersion: V1BETA1, interactive: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ExecInfoError(`cannot unmarshal ${goQuote(raw)} to ExecCredential: ${(err as Error).message}`, {
      hint: "KUBERNETES_EXEC_INFO is set by kubectl; unset it when running kubelogin by hand",
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ExecInfoError(`cannot unmarshal ${goQuote(raw)} to ExecCredential: not a JSON object`, {
      hint: "KUBERNETES_EXEC_INFO is set by kubectl; unset it when running kubelogin by hand",
    });
  }
  const record = parsed as { apiVersion?: unknown; spec?: { interactive?: unknown } };
  const apiVersion = record.apiVersion ?? "";
  const interactive = record.spec?.interactive === true;
  if (apiVersion === "" || apiVersion === V1BETA1) return { apiVersion: V1BETA1, interactive };
  if (apiVersion === V1) return { apiVersion: V1, interactive };
  throw new ExecInfoError(`api version: ${String(apiVersion)} is not supported`, {
    hint: `the kubeconfig exec stanza must use apiVersion ${V1BETA1} or ${V1}`,
  });
}

/** Go's %q for the common cases: JSON string escaping is the same for printable text. */
function goQuote(text: string): string {
  return JSON.stringify(text);
}
