// pflag-compatible parsing (compat spec §0.3): `--flag value`, `--flag=value`, `-l value`,
// `-lvalue`, `-l=value`; booleans never consume the next argument; `--` ends flags; the last
// occurrence wins; stray positional arguments are kept and ignored. Error texts are pflag's.
import { UsageError } from "../errors.js";
import { parseGoDuration } from "./duration.js";
import { strconvQuote } from "./go-quote.js";
import type { OptionSpec } from "./table.js";

export type FlagValue = string | boolean | number;

export interface ParsedFlags {
  /** Values by option key; durations in milliseconds. */
  readonly values: Readonly<Record<string, FlagValue>>;
  /** Keys whose flag appeared on the command line (pflag's "changed"). */
  readonly changed: ReadonlySet<string>;
  /** For each changed key, the long flag that set it last (`--token-cache-dir` vs `--cache-dir`). */
  readonly setBy?: Readonly<Record<string, string>>;
  /** Deprecated flags that were used, with their notice. */
  readonly deprecations: readonly string[];
  readonly positionals: readonly string[];
  readonly help: boolean;
}

/** Cobra adds `-h, --help` (a bool) to every command. */
const HELP: OptionSpec = {
  // Stryker disable next-line StringLiteral: parseFlags never reads HELP's key (help is not a value) or its help text
  key: "help",
  flag: "--help",
  short: "-h",
  type: "bool",
  // Stryker disable next-line StringLiteral: as for the key
  help: "help",
};

export function parseFlags(args: readonly string[], specs: readonly OptionSpec[]): ParsedFlags {
  const all = [...specs, ...(specs.some((s) => s.flag === HELP.flag) ? [] : [HELP])];
  const byLong = new Map(all.map((s) => [s.flag.slice(2), s]));
  const byShort = new Map(all.filter((s) => s.short).map((s) => [s.short!.slice(1), s]));
  const values: Record<string, FlagValue> = {};
  const changed = new Set<string>();
  const setBy: Record<string, string> = {};
  const deprecations: string[] = [];
  const positionals: string[] = [];
  let help = false;

  const set = (spec: OptionSpec, raw: string): void => {
    const value = convert(spec, raw);
    if (spec === HELP) {
      help = value === true;
      return;
    }
    values[spec.key] = value;
    changed.add(spec.key);
    setBy[spec.key] = spec.flag;
    if (spec.deprecated) deprecations.push(`Flag ${spec.flag} has been deprecated, ${spec.deprecated}`);
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const body = arg.slice(2);
      // (A bare "--" ended the flags above, so the body is never empty.)
      if (body.startsWith("-") || body.startsWith("=")) throw new UsageError(`bad flag syntax: ${arg}`);
      const eq = body.indexOf("=");
      const name = eq === -1 ? body : body.slice(0, eq);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      if (eq !== -1) set(spec, body.slice(eq + 1));
      else if (spec.type === "bool") set(spec, "true");
      else if (i + 1 < args.length) set(spec, args[++i]!);
      else throw new UsageError(`flag needs an argument: ${arg}`);
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      i = parseShortGroup(args, i, byShort, set);
      continue;
    }
    positionals.push(arg);
  }
  return { values, changed, setBy, deprecations, positionals, help };
}

/** pflag's parseShortArg: `-l spn`, `-lspn`, `-l=spn`, and bool letters grouped (`-hv5`). */
function parseShortGroup(
  args: readonly string[],
  index: number,
  byShort: ReadonlyMap<string, OptionSpec>,
  set: (spec: OptionSpec, raw: string) => void,
): number {
  const group = args[index]!.slice(1);
  for (let j = 0; j < group.length; j++) {
    const letter = group[j]!;
    // pflag names the unparsed rest of the group, not the whole argument.
    const shorthands = group.slice(j);
    const spec = byShort.get(letter);
    if (!spec) throw new UsageError(`unknown shorthand flag: ${goRuneQuote(letter)} in -${shorthands}`);
    const rest = group.slice(j + 1);
    if (rest.length > 1 && rest.startsWith("=")) {
      set(spec, rest.slice(1));
      return index;
    }
    if (spec.type === "bool") {
      set(spec, "true");
      continue;
    }
    if (rest.length > 0) {
      set(spec, rest); // includes pflag's quirk: `-l=` sets "="
      return index;
    }
    if (index + 1 < args.length) {
      set(spec, args[index + 1]!);
      return index + 1;
    }
    throw new UsageError(`flag needs an argument: ${goRuneQuote(letter)} in -${shorthands}`);
  }
  return index;
}

/** `%q` of a single character: Go's quoted rune literal ('x'). */
function goRuneQuote(letter: string): string {
  const inner = strconvQuote(letter).slice(1, -1);
  return `'${inner === '\\"' ? '"' : inner === "'" ? "\\'" : inner}'`;
}

function displayName(spec: OptionSpec): string {
  return spec.short ? `${spec.short}, ${spec.flag}` : spec.flag;
}

function convert(spec: OptionSpec, raw: string): FlagValue {
  const invalid = (reason: string): UsageError =>
    new UsageError(`invalid argument ${strconvQuote(raw)} for ${strconvQuote(displayName(spec))} flag: ${reason}`);
  switch (spec.type) {
    case "string":
      return raw;
    case "bool": {
      const parsed = parseGoBool(raw);
      if (parsed === undefined) throw invalid(`strconv.ParseBool: parsing ${strconvQuote(raw)}: invalid syntax`);
      return parsed;
    }
    case "duration":
      try {
        return parseGoDuration(raw);
      } catch (err) {
        throw invalid((err as Error).message);
      }
    case "int32": {
      const parsed = parseGoInt32(raw);
      if (typeof parsed === "string") throw invalid(`strconv.ParseInt: parsing ${strconvQuote(raw)}: ${parsed}`);
      return parsed;
    }
  }
}

/** Go's strconv.ParseInt(raw, 10, 32): the value, or the reason it was refused. */
export function parseGoInt32(raw: string): number | "invalid syntax" | "value out of range" {
  if (!/^[+-]?[0-9]+$/.test(raw)) return "invalid syntax";
  const value = BigInt(raw);
  if (value < -(2n ** 31n) || value > 2n ** 31n - 1n) return "value out of range";
  return Number(value);
}

/** Go's strconv.ParseBool. */
export function parseGoBool(raw: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(raw)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(raw)) return false;
  return undefined;
}
