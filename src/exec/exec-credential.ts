// The ExecCredential kubectl reads from our stdout (compat spec §2.2): one compact JSON line, keys
// in Go's order, expiry in UTC RFC 3339 whole seconds. writeExecCredential is the only code in
// kubelogin that writes to stdout for get-token.
import { KubeloginError } from "../errors.js";
import { goPathError } from "../os-error.js";
import type { Output } from "../runtime.js";
import type { ExecApiVersion } from "./exec-info.js";

export interface ExecToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresOn: number;
}

export function formatExecCredential(apiVersion: ExecApiVersion, token: ExecToken): string {
  // metav1.Time marshals as RFC 3339 in UTC with whole seconds (the fraction is dropped, not rounded).
  const expirationTimestamp = new Date(Math.floor(token.expiresOn / 1000) * 1000).toISOString().replace(".000Z", "Z");
  const body = JSON.stringify({
    kind: "ExecCredential",
    apiVersion,
    spec: { interactive: false },
    // `token` is `omitempty` in the Go type.
    status: token.token === "" ? { expirationTimestamp } : { expirationTimestamp, token: token.token },
  });
  // Go's encoder escapes <, > and & (HTML-safe) and U+2028/U+2029 in strings; JSON.stringify does not.
  return `${body.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`;
}

export function writeExecCredential(stdout: Output, apiVersion: ExecApiVersion, token: ExecToken): void {
  const text = formatExecCredential(apiVersion, token);
  try {
    stdout.write(text);
  } catch (err) {
    throw new KubeloginError(`could not write the ExecCredential: ${goPathError(err, "write", "/dev/stdout")}`, {
      hint: "kubelogin's standard output was closed or full; it must be a pipe that kubectl (or you) reads",
      cause: err,
    });
  }
}
