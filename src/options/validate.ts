// Upstream's Options.Validate (compat spec §1.3), in its order and with its texts. Shared by
// get-token and convert-kubeconfig.
import { ValidationError } from "../errors.js";
import type { GetTokenOptions, Provenance } from "./resolve.js";
import { LOGIN_MODES, type LoginMode } from "./table.js";

export function isLoginMode(value: string): value is LoginMode {
  return (LOGIN_MODES as readonly string[]).includes(value);
}

export function validateOptions(options: GetTokenOptions, provenance: Provenance): void {
  if (!isLoginMode(options.loginMethod)) {
    throw new ValidationError(
      `'${options.loginMethod}' is not a supported login method. Supported method is one of ${LOGIN_MODES.join(", ")}`,
      { hint: fromEnvHint(provenance.loginMethod) ?? "pass --login (-l) with one of the methods above" },
    );
  }
  if (options.authorityHost !== "") {
    const problem = authorityHostProblem(options.authorityHost);
    if (problem) throw new ValidationError(problem, { hint: fromEnvHint(provenance.authorityHost) ?? "pass --authority-host as an absolute https URL ending with /, e.g. https://login.microsoftonline.com/" });
  }
  if (options.isPopTokenEnabled && options.popClaims === "") {
    throw new ValidationError(
      "if enabling pop token mode, please provide the pop-claims flag containing the PoP token claims as a comma-separated string: `u=popClaimHost,key1=val1`",
    );
  }
  if (options.popClaims !== "" && !options.isPopTokenEnabled) {
    throw new ValidationError("pop-enabled flag is required to use the PoP token feature. Please provide both pop-enabled and pop-claims flags");
  }
  if (options.timeout <= 0) {
    throw new ValidationError("timeout must be greater than 0", { hint: fromEnvHint(provenance.timeout) ?? "pass --timeout as a positive Go duration such as 60s" });
  }
}

function fromEnvHint(source: string): string | undefined {
  return source.startsWith("env ") ? `the value came from ${source.slice(4)}; fix or unset it` : undefined;
}

/** Go's url.ParseRequestURI plus upstream's scheme/host/trailing-slash checks. */
export function authorityHostProblem(value: string): string | undefined {
  const quoted = JSON.stringify(value);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(value);
  if (!scheme && !value.startsWith("/")) return `authority host ${quoted} is not valid: parse ${quoted}: invalid URI for request`;
  let host = "";
  if (scheme) {
    const afterScheme = value.slice(scheme[0].length);
    if (afterScheme.startsWith("//")) {
      const authority = afterScheme.slice(2).split(/[/?#]/, 1)[0] ?? "";
      host = authority.slice(authority.lastIndexOf("@") + 1);
      const bad = /[^\w.\-:[\]%!$&'()*+,;=~]/.exec(host);
      if (bad) return `authority host ${quoted} is not valid: parse ${quoted}: invalid character ${JSON.stringify(bad[0])} in host name`;
    }
  }
  if (!scheme || host === "") return `authority host ${quoted} is not valid`;
  if (!value.endsWith("/")) return `authority host ${quoted} should have a trailing slash`;
  return undefined;
}
