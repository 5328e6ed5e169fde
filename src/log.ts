// klog-style leveled logging to stderr (compat spec §0.2: -v N). Redaction is built in, so a
// caller can never leak a registered secret or anything shaped like a token, at any level.
import { redact } from "./errors.js";
import type { Clock, Output } from "./runtime.js";

export interface Logger {
  readonly level: number;
  /** Logged when -v is at least `level` (upstream logs at 5 and 10). A function is only called then. */
  v(level: number, message: string | (() => string)): void;
  warn(message: string): void;
  /** Values that must never appear in any log line or error text. */
  addSecrets(values: Iterable<string>): void;
  readonly secrets: readonly string[];
}

export function createLogger(stderr: Output, level: number, clock: Clock, pid: number): Logger {
  const secrets: string[] = [];
  const line = (severity: "I" | "W", message: string): void => {
    const at = new Date(clock.now());
    const pad = (n: number, width = 2): string => String(n).padStart(width, "0");
    const stamp = `${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}.${pad(at.getUTCMilliseconds() * 1000, 6)}`;
    stderr.write(`${severity}${stamp} ${String(pid).padStart(7)} kubelogin] ${redact(message, secrets)}\n`);
  };
  return {
    level,
    v: (at, message) => {
      if (level >= at) line("I", typeof message === "function" ? message() : message);
    },
    warn: (message) => line("W", message),
    addSecrets: (values) => {
      for (const value of values) if (value) secrets.push(value);
    },
    secrets,
  };
}
