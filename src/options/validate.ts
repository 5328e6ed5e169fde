// Upstream's Options.Validate (compat spec §1.3), in its order and with its texts. Shared by
// get-token and convert-kubeconfig.
import { ValidationError } from "../errors.js";
import type { Origin } from "./origin.js";
import type { GetTokenOptions, Provenance, ResolvedOptions } from "./resolve.js";
import { strconvQuote } from "./go-quote.js";
import { LOGIN_MODES, type LoginMode } from "./table.js";

/** Options that passed Validate: the login method is known to be one of ours. */
export interface ValidatedOptions extends GetTokenOptions {
  loginMethod: LoginMode;
}

export type ValidatedResolvedOptions = ResolvedOptions<ValidatedOptions>;

export function isLoginMode(value: string): value is LoginMode {
  return (LOGIN_MODES as readonly string[]).includes(value);
}

export function validateOptions(options: Readonly<GetTokenOptions>, provenance: Provenance): Readonly<ValidatedOptions> {
  const loginMethod = options.loginMethod;
  if (!isLoginMode(loginMethod)) {
    throw new ValidationError(
      `'${loginMethod}' is not a supported login method. Supported method is one of ${LOGIN_MODES.join(", ")}`,
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
  return { ...options, loginMethod };
}

function fromEnvHint(origin: Origin): string | undefined {
  if (origin.kind !== "env") return undefined;
  return `the value came from ${origin.name}${origin.overrode ? ` (overrode ${origin.overrode})` : ""}; fix or unset it`;
}

/** Upstream's checks: Go's url.ParseRequestURI must succeed, scheme and host must be set, trailing slash. */
export function authorityHostProblem(value: string): string | undefined {
  const quoted = strconvQuote(value);
  const parsed = parseRequestUri(value);
  if (typeof parsed === "string") return `authority host ${quoted} is not valid: parse ${quoted}: ${parsed}`;
  if (parsed.host === "") return `authority host ${quoted} is not valid`;
  if (!value.endsWith("/")) return `authority host ${quoted} should have a trailing slash`;
  return undefined;
}

/**
 * Go's url.ParseRequestURI (net/url parse with viaRequest), reduced to the host or the error text.
 * Only a URL with a scheme gets a host, so an empty host also covers upstream's empty-scheme check.
 */
function parseRequestUri(raw: string): { host: string } | string {
  if (/[\x00-\x1f\x7f]/.test(raw)) return "net/url: invalid control character in URL";
  if (raw === "*") return { host: "" };
  let hasScheme = false;
  let rest = raw;
  // Stryker disable next-line EqualityOperator: with <= the extra step reads undefined, which /[a-zA-Z]/ accepts as "undefined", so it continues out of the loop just the same
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c) && i > 0) continue;
    if (c === ":") {
      if (i === 0) return "missing protocol scheme";
      hasScheme = true;
      rest = raw.slice(i + 1);
    }
    break;
  }
  // A request URI keeps any '#' in the path; only the query is split off (Go's ForceQuery case,
  // a lone trailing '?', leaves the same rest).
  rest = rest.split("?", 1)[0]!;
  if (!rest.startsWith("/")) return hasScheme ? { host: "" } : "invalid URI for request";
  let host = "";
  if (hasScheme && rest.startsWith("//")) {
    let authority = rest.slice(2);
    // Stryker disable next-line StringLiteral: only a '%' can make the path fail below, so any %-free text stands for the empty path
    rest = "";
    const slash = authority.indexOf("/");
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf("@");
    const hostProblem = parseHostProblem(authority.slice(at + 1));
    if (hostProblem) return hostProblem;
    // Stryker disable next-line EqualityOperator: at === 0 leaves an empty userinfo, which the pattern accepts either way
    if (at >= 0 && !/^[\w\-.:~!$&'()*+,;=%@]*$/.test(authority.slice(0, at))) return "net/url: invalid userinfo";
    // Go unescapes the user name and the password too; a bad escape in either is its error.
    const userinfoProblem = at >= 0 ? unescapeProblem(authority.slice(0, at), "path") : undefined;
    if (userinfoProblem) return userinfoProblem;
    host = authority.slice(at + 1);
  }
  // Stryker disable next-line StringLiteral: unescapeProblem only tests mode === "host", so any other text means the path rules
  return unescapeProblem(rest, "path") ?? { host };
}

function parseHostProblem(host: string): string | undefined {
  let portFrom: number;
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    // Stryker disable next-line EqualityOperator: the host starts with '[', so its last ']' is never at index 0
    if (close < 0) return "missing ']' in host";
    portFrom = close + 1;
  } else {
    portFrom = host.lastIndexOf(":");
  }
  if (portFrom >= 0) {
    const colonPort = host.slice(portFrom);
    if (colonPort !== "" && !/^:\d*$/.test(colonPort)) return `invalid port ${strconvQuote(colonPort)} after host`;
  }
  return unescapeProblem(host, "host");
}

/** The errors of Go's url.unescape for the host and path encodings. */
function unescapeProblem(text: string, mode: "host" | "path"): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "%") {
      if (!/^%[0-9a-fA-F]{2}/.test(text.slice(i))) return `invalid URL escape ${strconvQuote(text.slice(i, i + 3))}`;
      // In a host, %-encoding is only for non-ASCII bytes (and %25 in IPv6 zones).
      if (mode === "host" && parseInt(text[i + 1]!, 16) < 8 && text.slice(i, i + 3) !== "%25") {
        return `invalid URL escape ${strconvQuote(text.slice(i, i + 3))}`;
      }
      i += 2;
    } else if (mode === "host" && c.charCodeAt(0) < 0x80 && !/[\w.~!$&'()*+,;=:[\]<>"-]/.test(c)) {
      return `invalid character ${strconvQuote(c)} in host name`;
    }
  }
  return undefined;
}
