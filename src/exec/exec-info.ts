// KUBERNETES_EXEC_INFO decides the ExecCredential apiVersion (compat spec §2.1). We parse it before
// any login (decision 5), so a bad value fails fast without a prompt or a network request.
import { ExecInfoError } from "../errors.js";
import { strconvQuote } from "../options/go-quote.js";
import { goJsonSyntaxError } from "./go-json-syntax.js";

export const V1BETA1 = "client.authentication.k8s.io/v1beta1";
export const V1 = "client.authentication.k8s.io/v1";
export type ExecApiVersion = typeof V1BETA1 | typeof V1;

export interface ExecInfo {
  readonly apiVersion: ExecApiVersion;
  readonly interactive: boolean;
}

const HINT = "KUBERNETES_EXEC_INFO is set by kubectl; unset it when running kubelogin by hand";

/**
 * Upstream json.Unmarshal()s the variable into client-go's internal ExecCredential and switches on
 * its apiVersion. Mirrors encoding/json where it matters: `null` decodes to an empty credential,
 * keys match case-insensitively, a value of the wrong JSON type is an unmarshal error.
 */
export function parseExecInfo(raw: string | undefined): ExecInfo {
  if (!raw) return { apiVersion: V1BETA1, interactive: false };
  const unmarshalError = (reason: string): ExecInfoError =>
    new ExecInfoError(`cannot unmarshal ${strconvQuote(raw)} to ExecCredential: ${reason}`, { hint: HINT });
  const syntaxError = goJsonSyntaxError(raw);
  if (syntaxError !== undefined) throw unmarshalError(syntaxError);
  const parsed: unknown = JSON.parse(raw);
  if (parsed === null) return { apiVersion: V1BETA1, interactive: false };
  if (jsonKind(parsed) !== "object") {
    throw unmarshalError(`json: cannot unmarshal ${jsonKind(parsed)} into Go value of type clientauthentication.ExecCredential`);
  }
  const record = parsed as Record<string, unknown>;
  const apiVersion = field(record, "apiVersion") ?? "";
  if (typeof apiVersion !== "string") {
    throw unmarshalError(`json: cannot unmarshal ${jsonKind(apiVersion)} into Go struct field ExecCredential.TypeMeta.apiVersion of type string`);
  }
  const spec = field(record, "spec");
  let interactive = false;
  if (spec !== undefined && spec !== null) {
    if (jsonKind(spec) !== "object") {
      throw unmarshalError(`json: cannot unmarshal ${jsonKind(spec)} into Go struct field ExecCredential.Spec of type clientauthentication.ExecCredentialSpec`);
    }
    const value = field(spec as Record<string, unknown>, "interactive") ?? false;
    if (typeof value !== "boolean") {
      throw unmarshalError(`json: cannot unmarshal ${jsonKind(value)} into Go struct field ExecCredentialSpec.Spec.Interactive of type bool`);
    }
    interactive = value;
  }
  if (apiVersion === "" || apiVersion === V1BETA1) return { apiVersion: V1BETA1, interactive };
  if (apiVersion === V1) return { apiVersion: V1, interactive };
  throw new ExecInfoError(`api version: ${apiVersion} is not supported`, {
    hint: `the kubeconfig exec stanza must use apiVersion ${V1BETA1} or ${V1}`,
  });
}

/** encoding/json's key matching: case-insensitive; the last matching key in the document wins. */
function field(record: Record<string, unknown>, name: string): unknown {
  let found: unknown;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === name.toLowerCase()) found = value;
  }
  return found;
}

/** The JSON type names encoding/json uses in UnmarshalTypeError. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return "number";
  if (typeof value === "string") return "string";
  return "object";
}
