// pflag syntax as kubelogin's cobra commands accept it (compat spec §0.3), with pflag's error texts.
import { describe, expect, test } from "vitest";
import { UsageError } from "../../src/errors.js";
import { parseFlags, parseGoBool, type FlagValue } from "../../src/options/parse-flags.js";
import { GET_TOKEN_OPTIONS, GLOBAL_OPTIONS } from "../../src/options/table.js";

const OPTIONS = [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS];
const parse = (argv: readonly string[]) => parseFlags(argv, OPTIONS);

interface Row {
  readonly argv: readonly string[];
  readonly values: Readonly<Record<string, FlagValue>>;
  readonly positionals?: readonly string[];
}

describe("parseFlags accepts pflag syntax", () => {
  test.each<[string, Row]>([
    ["--flag value", { argv: ["--client-id", "abc"], values: { clientId: "abc" } }],
    ["--flag=value", { argv: ["--client-id=abc"], values: { clientId: "abc" } }],
    ["--flag=value keeps later '='", { argv: ["--pop-claims=u=host,k=v"], values: { popClaims: "u=host,k=v" } }],
    ["--flag= sets the empty string", { argv: ["--client-id="], values: { clientId: "" } }],
    ["--flag takes the next arg even if it looks like a flag", { argv: ["--client-id", "--legacy"], values: { clientId: "--legacy" } }],
    ["--flag takes a following --", { argv: ["--client-id", "--"], values: { clientId: "--" } }],
    ["-l value", { argv: ["-l", "spn"], values: { loginMethod: "spn" } }],
    ["-lvalue", { argv: ["-lspn"], values: { loginMethod: "spn" } }],
    ["-l=value", { argv: ["-l=spn"], values: { loginMethod: "spn" } }],
    ["-l= sets '=' (pflag quirk: -f= with nothing after is the -farg form)", { argv: ["-l="], values: { loginMethod: "=" } }],
    ["-t, -s, -e shorthands", { argv: ["-t", "tenant", "-s", "sub", "-eAzureChinaCloud"], values: { tenantId: "tenant", subscription: "sub", environment: "AzureChinaCloud" } }],
    ["--subscription long form", { argv: ["--subscription", "sub"], values: { subscription: "sub" } }],
    ["bool --legacy", { argv: ["--legacy"], values: { legacy: true } }],
    ["bool --legacy=false", { argv: ["--legacy=false"], values: { legacy: false } }],
    ["bool --legacy=1", { argv: ["--legacy=1"], values: { legacy: true } }],
    ["bool --legacy=T", { argv: ["--legacy=T"], values: { legacy: true } }],
    ["bool --legacy=F", { argv: ["--legacy=F"], values: { legacy: false } }],
    ["bool does not consume a following false", { argv: ["--legacy", "false"], values: { legacy: true }, positionals: ["false"] }],
    ["duration 60s", { argv: ["--timeout", "60s"], values: { timeout: 60_000 } }],
    ["duration 1m30s", { argv: ["--timeout=1m30s"], values: { timeout: 90_000 } }],
    ["duration 1.5h", { argv: ["--timeout", "1.5h"], values: { timeout: 5_400_000 } }],
    ["duration -1s parses (validation rejects it later)", { argv: ["--timeout", "-1s"], values: { timeout: -1_000 } }],
    ["last occurrence wins", { argv: ["--client-id", "a", "--client-id=b", "-l", "spn", "-lmsi"], values: { clientId: "b", loginMethod: "msi" } }],
    ["bool last occurrence wins", { argv: ["--legacy", "--legacy=false"], values: { legacy: false } }],
    ["--cache-dir", { argv: ["--cache-dir", "/a"], values: { cacheDir: "/a" } }],
    ["--token-cache-dir writes the same value", { argv: ["--token-cache-dir", "/a"], values: { cacheDir: "/a" } }],
    ["--token-cache-dir then --cache-dir: last wins", { argv: ["--token-cache-dir", "/a", "--cache-dir", "/b"], values: { cacheDir: "/b" } }],
    ["--cache-dir then --token-cache-dir: last wins", { argv: ["--cache-dir", "/b", "--token-cache-dir=/a"], values: { cacheDir: "/a" } }],
    ["-- ends flags", { argv: ["--client-id", "a", "--", "--legacy", "-l", "x"], values: { clientId: "a" }, positionals: ["--legacy", "-l", "x"] }],
    ["stray positionals are kept", { argv: ["extra", "--client-id", "a", "more", "-"], values: { clientId: "a" }, positionals: ["extra", "more", "-"] }],
    ["an empty argument is a positional", { argv: [""], values: {}, positionals: [""] }],
    ["klog -v 5", { argv: ["-v", "5"], values: { verbosity: 5 } }],
    ["klog -v5", { argv: ["-v5"], values: { verbosity: 5 } }],
    ["klog --v=5 and --logtostderr", { argv: ["--v=5", "--logtostderr"], values: { verbosity: 5, logtostderr: true } }],
    ["klog -v with a sign and several digits", { argv: ["-v", "+10"], values: { verbosity: 10 } }],
    ["klog -v at the int32 maximum", { argv: ["-v", "2147483647"], values: { verbosity: 2_147_483_647 } }],
    ["klog -v at the int32 minimum", { argv: ["--v=-2147483648"], values: { verbosity: -2_147_483_648 } }],
  ])("%s", (_name, row) => {
    const parsed = parse(row.argv);
    expect(parsed.values).toEqual(row.values);
    expect(parsed.positionals).toEqual(row.positionals ?? []);
    expect(parsed.help).toBe(false);
  });
});

describe("parseFlags rejects what pflag rejects, with pflag's texts", () => {
  test.each<[readonly string[], string]>([
    [["--foo"], "unknown flag: --foo"],
    [["--foo=bar"], "unknown flag: --foo"],
    [["--Client-Id", "x"], "unknown flag: --Client-Id"],
    [["-x"], "unknown shorthand flag: 'x' in -x"],
    [["-xl", "spn"], "unknown shorthand flag: 'x' in -xl"],
    [["-hx"], "unknown shorthand flag: 'x' in -x"],
    [["-L"], "unknown shorthand flag: 'L' in -L"],
    [["--client-id"], "flag needs an argument: --client-id"],
    [["--legacy", "--timeout"], "flag needs an argument: --timeout"],
    [["-l"], "flag needs an argument: 'l' in -l"],
    [["-hl"], "flag needs an argument: 'l' in -l"],
    [["---x"], "bad flag syntax: ---x"],
    [["--=x"], "bad flag syntax: --=x"],
    [["--timeout", "30"], 'invalid argument "30" for "--timeout" flag: time: missing unit in duration "30"'],
    [["--timeout=1d"], 'invalid argument "1d" for "--timeout" flag: time: unknown unit "d" in duration "1d"'],
    [["--timeout="], 'invalid argument "" for "--timeout" flag: time: invalid duration ""'],
    [["--legacy=maybe"], 'invalid argument "maybe" for "--legacy" flag: strconv.ParseBool: parsing "maybe": invalid syntax'],
    [["--pop-enabled="], 'invalid argument "" for "--pop-enabled" flag: strconv.ParseBool: parsing "": invalid syntax'],
    [["--legacy=yes\n"], 'invalid argument "yes\\n" for "--legacy" flag: strconv.ParseBool: parsing "yes\\n": invalid syntax'],
    [["--help=nope"], 'invalid argument "nope" for "-h, --help" flag: strconv.ParseBool: parsing "nope": invalid syntax'],
    // pflag prints the shorthand byte with %q: a quote bare, an apostrophe escaped.
    [['-"'], "unknown shorthand flag: '\"' in -\""],
    [["-'"], "unknown shorthand flag: '\\'' in -'"],
    [["-\t"], "unknown shorthand flag: '\\t' in -\t"],
    // klog's -v is strconv.ParseInt(s, 10, 32).
    [["-v", "abc"], 'invalid argument "abc" for "-v, --v" flag: strconv.ParseInt: parsing "abc": invalid syntax'],
    [["-v", "5x"], 'invalid argument "5x" for "-v, --v" flag: strconv.ParseInt: parsing "5x": invalid syntax'],
    [["-v", "x5"], 'invalid argument "x5" for "-v, --v" flag: strconv.ParseInt: parsing "x5": invalid syntax'],
    [["-v", ""], 'invalid argument "" for "-v, --v" flag: strconv.ParseInt: parsing "": invalid syntax'],
    [["-v", "-"], 'invalid argument "-" for "-v, --v" flag: strconv.ParseInt: parsing "-": invalid syntax'],
    [["-v", "0x10"], 'invalid argument "0x10" for "-v, --v" flag: strconv.ParseInt: parsing "0x10": invalid syntax'],
    [["-v", "2147483648"], 'invalid argument "2147483648" for "-v, --v" flag: strconv.ParseInt: parsing "2147483648": value out of range'],
    [["--v=-2147483649"], 'invalid argument "-2147483649" for "-v, --v" flag: strconv.ParseInt: parsing "-2147483649": value out of range'],
  ])("%j → %s", (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(new UsageError(message));
  });

  test("a shorthand flag's error names both forms", () => {
    const specs = [{ key: "flag", flag: "--flag", short: "-f", type: "bool" as const, help: "" }];
    expect(() => parseFlags(["-f=x"], specs)).toThrow('invalid argument "x" for "-f, --flag" flag: strconv.ParseBool: parsing "x": invalid syntax');
  });
});

describe("help", () => {
  test.each<[readonly string[], boolean]>([
    [["-h"], true],
    [["--help"], true],
    [["--client-id", "a", "-h"], true],
    [["--help=true"], true],
    [["--help=false"], false],
    [["-h", "--help=false"], false],
    [["--", "-h"], false],
    [["--client-id", "-h"], false],
  ])("%j → help %s", (argv, help) => {
    expect(parse(argv).help).toBe(help);
  });

  test("a command that declares its own --help keeps it (cobra adds one only when there is none)", () => {
    const specs = [
      { key: "ownHelp", flag: "--help", short: "-h", type: "bool" as const, help: "help for this command" },
      { key: "name", flag: "--name", type: "string" as const, help: "" },
    ];
    const parsed = parseFlags(["--help", "--name", "x"], specs);
    expect(parsed.help).toBe(false);
    expect(parsed.values).toEqual({ ownHelp: true, name: "x" });
  });

  test("help is not an option value and not 'changed'", () => {
    const parsed = parse(["-h"]);
    expect(parsed.values).toEqual({});
    expect([...parsed.changed]).toEqual([]);
  });
});

describe("changed, setBy and deprecations", () => {
  test("changed tracks only the flags given, including ones set to their default", () => {
    const parsed = parse(["-l", "devicecode", "--legacy=false", "--timeout", "60s", "positional"]);
    expect([...parsed.changed].sort()).toEqual(["legacy", "loginMethod", "timeout"]);
  });

  test("nothing given, nothing changed", () => {
    const parsed = parse([]);
    expect(parsed).toEqual({ values: {}, changed: new Set(), setBy: {}, deprecations: [], positionals: [], help: false });
  });

  test("--token-cache-dir yields the cobra deprecation notice, once per use", () => {
    const parsed = parse(["--token-cache-dir", "/a", "--cache-dir", "/b", "--token-cache-dir=/c"]);
    expect(parsed.deprecations).toEqual([
      "Flag --token-cache-dir has been deprecated, use --cache-dir instead",
      "Flag --token-cache-dir has been deprecated, use --cache-dir instead",
    ]);
    expect(parsed.values).toEqual({ cacheDir: "/c" });
    expect([...parsed.changed]).toEqual(["cacheDir"]);
    expect(parsed.setBy).toEqual({ cacheDir: "--token-cache-dir" });
  });

  test("--cache-dir alone has no notice", () => {
    expect(parse(["--cache-dir", "/b"]).deprecations).toEqual([]);
  });

  test("setBy names the long flag even for a shorthand", () => {
    expect(parse(["-l", "spn", "--client-id", "a"]).setBy).toEqual({ loginMethod: "--login", clientId: "--client-id" });
  });
});

describe("parseGoBool is strconv.ParseBool", () => {
  test.each([
    ["1", true], ["t", true], ["T", true], ["TRUE", true], ["true", true], ["True", true],
    ["0", false], ["f", false], ["F", false], ["FALSE", false], ["false", false], ["False", false],
    ["", undefined], ["yes", undefined], ["tRUE", undefined], [" true", undefined], ["2", undefined],
  ])("%j → %s", (raw, want) => {
    expect(parseGoBool(raw)).toBe(want);
  });
});
