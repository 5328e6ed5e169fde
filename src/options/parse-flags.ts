// pflag-compatible parsing (compat spec §0.3): `--flag value`, `--flag=value`, `-l value`,
// `-lvalue`, `-l=value`; booleans never consume the next argument; `--` ends flags; the last
// occurrence wins; stray positional arguments are kept and ignored. Error texts are pflag's.
import { UsageError } from "../errors.js";
import { parseGoDuration } from "./duration.js";
import type { OptionSpec } from "./table.js";

export type FlagValue = string | boolean | number;

export interface ParsedFlags {
  /** Values by option key; durations in milliseconds. */
  readonly values: Readonly<Record<string, FlagValue>>;
  /** Keys whose flag appeared on the command line (pflag's "changed"). */
  readonly changed: ReadonlySet<string>;
  /** Deprecated flags that were used, with their notice. */
  readonly deprecations: readonly string[];
  readonly positionals: readonly string[];
  readonly help: boolean;
}

export function parseFlags(args: readonly string[], specs: readonly OptionSpec[]): ParsedFlags {
  const byLong = new Map(specs.map((s) => [s.flag.slice(2), s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!.slice(1), s]));
  const values: Record<string, FlagValue> = {};
  const changed = new Set<string>();
  const deprecations: string[] = [];
  const positionals: string[] = [];
  let help = false;

  const set = (spec: OptionSpec, raw: string, shown: string): void => {
    values[spec.key] = convert(spec, raw, shown);
    changed.add(spec.key);
    if (spec.deprecated) deprecations.push(`Flag ${spec.flag} has been deprecated, ${spec.deprecated}`);
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (name === "help") {
        help = true;
        continue;
      }
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      if (eq !== -1) set(spec, arg.slice(eq + 1), displayName(spec));
      else if (spec.type === "bool") set(spec, "true", displayName(spec));
      else if (i + 1 < args.length) set(spec, args[++i]!, displayName(spec));
      else throw new UsageError(`flag needs an argument: --${name}`);
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      i = parseShortGroup(args, i, byShort, set, () => (help = true));
      continue;
    }
    positionals.push(arg);
  }
  return { values, changed, deprecations, positionals, help };
}

function parseShortGroup(
  args: readonly string[],
  index: number,
  byShort: ReadonlyMap<string, OptionSpec>,
  set: (spec: OptionSpec, raw: string, shown: string) => void,
  onHelp: () => void,
): number {
  const group = args[index]!.slice(1);
  for (let j = 0; j < group.length; j++) {
    const letter = group[j]!;
    if (letter === "h") {
      onHelp();
      continue;
    }
    const spec = byShort.get(letter);
    if (!spec) throw new UsageError(`unknown shorthand flag: '${letter}' in -${group}`);
    const rest = group.slice(j + 1);
    if (rest.startsWith("=")) {
      set(spec, rest.slice(1), displayName(spec));
      return index;
    }
    if (spec.type === "bool") {
      set(spec, "true", displayName(spec));
      continue;
    }
    if (rest.length > 0) {
      set(spec, rest, displayName(spec));
      return index;
    }
    if (index + 1 < args.length) {
      set(spec, args[index + 1]!, displayName(spec));
      return index + 1;
    }
    throw new UsageError(`flag needs an argument: '${letter}' in -${group}`);
  }
  return index;
}

function displayName(spec: OptionSpec): string {
  return spec.short ? `${spec.short}, ${spec.flag}` : spec.flag;
}

function convert(spec: OptionSpec, raw: string, shown: string): FlagValue {
  switch (spec.type) {
    case "string":
      return raw;
    case "bool": {
      const parsed = parseGoBool(raw);
      if (parsed === undefined) {
        throw new UsageError(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`);
      }
      return parsed;
    }
    case "duration":
      try {
        return parseGoDuration(raw);
      } catch (err) {
        throw new UsageError(`invalid argument "${raw}" for "${shown}" flag: ${(err as Error).message}`);
      }
  }
}

/** Go's strconv.ParseBool. */
export function parseGoBool(raw: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(raw)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(raw)) return false;
  return undefined;
}
