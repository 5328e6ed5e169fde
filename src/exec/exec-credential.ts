// The ExecCredential kubectl reads from our stdout (compat spec §2.2): one compact JSON line, keys
// in Go's order, expiry in UTC RFC 3339 whole seconds. writeExecCredential is the only code in
// kubelogin that writes to stdout for get-token.
import type { Output } from "../runtime.js";
import type { ExecApiVersion } from "./exec-info.js";

export interface ExecToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresOn: number;
}

export function formatExecCredential(apiVersion: ExecApiVersion, token: ExecToken): string {
  const expirationTimestamp = new Date(Math.floor(token.expiresOn / 1000) * 1000).toISOString().replace(".000Z", "Z");
  // Go's encoder escapes <, > and & in strings; JSON.stringify does not.
  const body = JSON.stringify({
    kind: "ExecCredential",
    apiVersion,
    spec: { interactive: false },
    status: { expirationTimestamp, token: token.token },
  }).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  return `${body}\n`;
}

export function writeExecCredential(stdout: Output, apiVersion: ExecApiVersion, token: ExecToken): void {
  stdout.write(formatExecCredential(apiVersion, token));
}
