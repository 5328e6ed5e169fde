// Upstream's Options.Validate (compat spec §1.3): its checks, in its order, with its texts; our
// hint names the environment variable when the bad value came from there.
import { describe, expect, test } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions, type Env } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS, LOGIN_MODES } from "../../src/options/table.js";
import { authorityHostProblem, isLoginMode, validateOptions } from "../../src/options/validate.js";

const resolve = (argv: readonly string[], env: Env = {}) => resolveOptions(parseFlags(argv, GET_TOKEN_OPTIONS), env, "/home/user");
const validate = (argv: readonly string[], env: Env = {}): void => {
  const { options, provenance } = resolve(argv, env);
  validateOptions(options, provenance);
};
/** Matches the thrown ValidationError's exact message (whatever the hint). */
const withMessage = (message: string) => expect.objectContaining({ name: "ValidationError", message });
/** Matches the thrown ValidationError's message and hint as exact values. */
const rejection = (message: string, hint: string) => expect.objectContaining({ name: "ValidationError", message, hint });

const UNSUPPORTED = (value: string): string =>
  `'${value}' is not a supported login method. Supported method is one of devicecode, interactive, spn, ropc, msi, azurecli, azd, workloadidentity, azurepipelines`;
const POP_CLAIMS_MISSING =
  "if enabling pop token mode, please provide the pop-claims flag containing the PoP token claims as a comma-separated string: `u=popClaimHost,key1=val1`";
const POP_ENABLED_MISSING = "pop-enabled flag is required to use the PoP token feature. Please provide both pop-enabled and pop-claims flags";

describe("valid options", () => {
  test.each<[string, readonly string[], Env]>([
    ["defaults", [], {}],
    ["each login mode", ["-l", "spn"], {}],
    ["azurepipelines without tenant or service connection", ["-l", "azurepipelines"], {}],
    ["pop-enabled with claims", ["--pop-enabled", "--pop-claims", "u=testhost"], {}],
    ["empty authority host", ["--authority-host", ""], {}],
    ["authority host with trailing slash", ["--authority-host", "https://login.example.com/"], {}],
    ["authority host with port and path", ["--authority-host", "https://login.example.com:8443/tenant/"], {}],
    ["authority host with a non-ASCII host", ["--authority-host", "https://lögin.example.com/"], {}],
    ["unknown environment (means public cloud)", ["-e", "AzureStackCloud"], {}],
    ["tiny timeout", ["--timeout", "1ns"], {}],
    ["no server id (checked at run time)", ["--server-id", ""], {}],
  ])("%s", (_name, argv, env) => {
    expect(() => validate(argv, env)).not.toThrow();
  });

  test("returns the options it was given, with the login method checked", () => {
    const { options, provenance } = resolve(["-l", "spn", "--tenant-id", "t", "--timeout", "30s"]);
    expect(validateOptions(options, provenance)).toEqual(options);
  });

  test.each(LOGIN_MODES)("login %s is supported", (mode) => {
    expect(() => validate(["-l", mode])).not.toThrow();
    expect(isLoginMode(mode)).toBe(true);
  });
});

describe("§1.3 checks and texts", () => {
  test.each<[string, readonly string[], Env, string]>([
    ["unknown login", ["-l", "foo"], {}, UNSUPPORTED("foo")],
    ["login is case-sensitive", ["-l", "SPN"], {}, UNSUPPORTED("SPN")],
    ["login with spaces", ["-l", " spn"], {}, UNSUPPORTED(" spn")],
    ["empty login", ["-l", ""], {}, UNSUPPORTED("")],
    ["login from AAD_LOGIN_METHOD", [], { AAD_LOGIN_METHOD: "Msi" }, UNSUPPORTED("Msi")],
    [
      "authority host without a scheme",
      ["--authority-host", "invalid"],
      {},
      'authority host "invalid" is not valid: parse "invalid": invalid URI for request',
    ],
    [
      "authority host without a scheme, with a slash",
      ["--authority-host", "login.example.com/"],
      {},
      'authority host "login.example.com/" is not valid: parse "login.example.com/": invalid URI for request',
    ],
    [
      "authority host with a space",
      ["--authority-host", "https://login example.com/"],
      {},
      'authority host "https://login example.com/" is not valid: parse "https://login example.com/": invalid character " " in host name',
    ],
    ["authority host that is only a path", ["--authority-host", "/path/"], {}, 'authority host "/path/" is not valid'],
    ["authority host without a host", ["--authority-host", "https:///path/"], {}, 'authority host "https:///path/" is not valid'],
    ["authority host that is opaque", ["--authority-host", "localhost:8080/"], {}, 'authority host "localhost:8080/" is not valid'],
    [
      "authority host without a trailing slash",
      ["--authority-host", "https://login.example.com"],
      {},
      'authority host "https://login.example.com" should have a trailing slash',
    ],
    [
      "authority host with a query after the slash",
      ["--authority-host", "https://login.example.com/?x=1"],
      {},
      'authority host "https://login.example.com/?x=1" should have a trailing slash',
    ],
    [
      "authority host with a bad port",
      ["--authority-host", "https://login.example.com:abc/"],
      {},
      'authority host "https://login.example.com:abc/" is not valid: parse "https://login.example.com:abc/": invalid port ":abc" after host',
    ],
    [
      "authority host with a bad escape",
      ["--authority-host", "https://login.example.com/%zz/"],
      {},
      'authority host "https://login.example.com/%zz/" is not valid: parse "https://login.example.com/%zz/": invalid URL escape "%zz"',
    ],
    [
      "authority host starting with a colon",
      ["--authority-host", "://login.example.com/"],
      {},
      'authority host "://login.example.com/" is not valid: parse "://login.example.com/": missing protocol scheme',
    ],
    [
      "authority host with a control character is quoted like Go's %q",
      ["--authority-host", "https://login.example.com/\t"],
      {},
      'authority host "https://login.example.com/\\t" is not valid: parse "https://login.example.com/\\t": net/url: invalid control character in URL',
    ],
    ["pop-enabled without claims", ["--pop-enabled"], {}, POP_CLAIMS_MISSING],
    ["pop-enabled with empty claims", ["--pop-enabled", "--pop-claims", ""], {}, POP_CLAIMS_MISSING],
    ["claims without pop-enabled", ["--pop-claims", "u=testhost"], {}, POP_ENABLED_MISSING],
    ["claims with pop-enabled=false", ["--pop-enabled=false", "--pop-claims", "u=testhost"], {}, POP_ENABLED_MISSING],
    ["timeout 0", ["--timeout", "0"], {}, "timeout must be greater than 0"],
    ["timeout 0s", ["--timeout=0s"], {}, "timeout must be greater than 0"],
    ["negative timeout", ["--timeout", "-1s"], {}, "timeout must be greater than 0"],
    ["negative AZURE_CLI_TIMEOUT", [], { AZURE_CLI_TIMEOUT: "-1s" }, "timeout must be greater than 0"],
    ["zero AZURE_CLI_TIMEOUT", ["--timeout", "5m"], { AZURE_CLI_TIMEOUT: "0s" }, "timeout must be greater than 0"],
  ])("%s", (_name, argv, env, message) => {
    expect(() => validate(argv, env)).toThrow(ValidationError);
    expect(() => validate(argv, env)).toThrow(withMessage(message));
  });

  test.each<[string, readonly string[], string]>([
    ["login before authority host", ["-l", "x", "--authority-host", "invalid", "--pop-enabled", "--timeout", "0s"], UNSUPPORTED("x")],
    ["authority host before PoP", ["--authority-host", "invalid", "--pop-enabled", "--timeout", "0s"], 'authority host "invalid" is not valid: parse "invalid": invalid URI for request'],
    ["pop-enabled before timeout", ["--pop-enabled", "--timeout", "0s"], POP_CLAIMS_MISSING],
    ["pop-claims before timeout", ["--pop-claims", "u=x", "--timeout", "0s"], POP_ENABLED_MISSING],
  ])("order: %s", (_name, argv, message) => {
    expect(() => validate(argv)).toThrow(withMessage(message));
  });
});

describe("hints", () => {
  test.each<[string, readonly string[], Env, string, string]>([
    [
      "a login from AAD_LOGIN_METHOD names the variable",
      ["-l", "spn"],
      { AAD_LOGIN_METHOD: "SPN" },
      UNSUPPORTED("SPN"),
      "the value came from AAD_LOGIN_METHOD (overrode --login); fix or unset it",
    ],
    ["a login from the flag says how to pass it", ["-l", "SPN"], {}, UNSUPPORTED("SPN"), "pass --login (-l) with one of the methods above"],
    [
      "an authority host from AZURE_AUTHORITY_HOST names the variable",
      ["-l", "workloadidentity"],
      { AZURE_AUTHORITY_HOST: "https://login.example.com" },
      'authority host "https://login.example.com" should have a trailing slash',
      "the value came from AZURE_AUTHORITY_HOST; fix or unset it",
    ],
    [
      "an authority host from the flag shows an example",
      ["--authority-host", "invalid"],
      {},
      'authority host "invalid" is not valid: parse "invalid": invalid URI for request',
      "pass --authority-host as an absolute https URL ending with /, e.g. https://login.microsoftonline.com/",
    ],
    [
      "a timeout from AZURE_CLI_TIMEOUT names the variable",
      ["--timeout", "30s"],
      { AZURE_CLI_TIMEOUT: "-1s" },
      "timeout must be greater than 0",
      "the value came from AZURE_CLI_TIMEOUT (overrode --timeout); fix or unset it",
    ],
    ["a timeout from the flag suggests a value", ["--timeout", "0s"], {}, "timeout must be greater than 0", "pass --timeout as a positive Go duration such as 60s"],
  ])("%s", (_name, argv, env, message, hint) => {
    expect(() => validate(argv, env)).toThrow(rejection(message, hint));
  });

  test("the matcher really checks the hint", () => {
    expect(() => validate(["-l", "SPN"])).not.toThrow(rejection(UNSUPPORTED("SPN"), "some other hint"));
  });
});

describe("authorityHostProblem (Go's url.ParseRequestURI plus upstream's checks)", () => {
  test.each<[string, string | undefined]>([
    ["https://login.microsoftonline.com/", undefined],
    ["http://localhost:8080/", undefined],
    ["https://user@login.example.com/", undefined],
    ["https://[::1]:8443/", undefined],
    ["https://:443/", undefined],
    ["HTTPS://LOGIN.EXAMPLE.COM/", undefined],
    ["https://login.example.com/a%20b/", undefined],
    ["https://login.example.com#x/", 'authority host "https://login.example.com#x/" is not valid: parse "https://login.example.com#x/": invalid character "#" in host name'],
    ["https://login_example.com/", undefined],
    ["https://[::1/", 'authority host "https://[::1/" is not valid: parse "https://[::1/": missing \']\' in host'],
    ["https://%41.example.com/", 'authority host "https://%41.example.com/" is not valid: parse "https://%41.example.com/": invalid URL escape "%41"'],
    ["https://us er@login.example.com/", 'authority host "https://us er@login.example.com/" is not valid: parse "https://us er@login.example.com/": net/url: invalid userinfo'],
    // Go unescapes the userinfo (user and password) and refuses a bad escape there.
    ["https://a%zz@login.example.com/", 'authority host "https://a%zz@login.example.com/" is not valid: parse "https://a%zz@login.example.com/": invalid URL escape "%zz"'],
    ["https://user:p%4@login.example.com/", 'authority host "https://user:p%4@login.example.com/" is not valid: parse "https://user:p%4@login.example.com/": invalid URL escape "%4"'],
    ["mailto:someone/", 'authority host "mailto:someone/" is not valid'],
    ["*", 'authority host "*" is not valid'],
    ["1https://x/", 'authority host "1https://x/" is not valid: parse "1https://x/": invalid URI for request'],
    // Digits, '+', '-' and '.' may follow the scheme's first letter.
    ["coap+tcp-1.0://login.example.com/", undefined],
    // Without a scheme a request URI has no host, even after "//".
    ["//login.example.com/", 'authority host "//login.example.com/" is not valid'],
    ["https:/path/", 'authority host "https:/path/" is not valid'],
    ["https://user@/", 'authority host "https://user@/" is not valid'],
    ["https://@login.example.com/", undefined],
    // The query is cut off before the host is parsed: here the host has no '/' after it.
    ["https://[::1]?/", undefined],
    ["https://login.example.com?/", undefined],
    ["https://login.example.com/??", 'authority host "https://login.example.com/??" should have a trailing slash'],
    // Host characters that userinfo does not allow, after an '@'.
    ["https://user@[::1]:8443/", undefined],
    ["https://[::1]/", undefined],
    ["https://[::1]x:80/", 'authority host "https://[::1]x:80/" is not valid: parse "https://[::1]x:80/": invalid port "x:80" after host'],
    ["https://:abc/", 'authority host "https://:abc/" is not valid: parse "https://:abc/": invalid port ":abc" after host'],
    ["https://login.example.com/%zz%41/", 'authority host "https://login.example.com/%zz%41/" is not valid: parse "https://login.example.com/%zz%41/": invalid URL escape "%zz"'],
    ["https://login.example.com/%4z/", 'authority host "https://login.example.com/%4z/" is not valid: parse "https://login.example.com/%4z/": invalid URL escape "%4z"'],
    // A host may %-encode bytes from 0x80 up, and %25 (an IPv6 zone), nothing else.
    ["https://l%C3%B6gin.example.com/", undefined],
    ["https://%80.example.com/", undefined],
    ["https://%7F.example.com/", 'authority host "https://%7F.example.com/" is not valid: parse "https://%7F.example.com/": invalid URL escape "%7F"'],
    ["https://[fe80::1%25en0]/", undefined],
    ["https://a\u0080b.example.com/", undefined],
    ["https://a\u007eb.example.com/", undefined],
  ])("%j → %s", (value, problem) => {
    expect(authorityHostProblem(value)).toBe(problem);
  });
});
