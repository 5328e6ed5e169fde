// run(argv, rt) → exit code. The only place that turns an error into stderr text and an exit
// code. Subcommands are dispatched here directly, so a cached get-token never loads yargs
// (+100 ms); yargs renders help and the command tree (yargs-app.ts). The order of checks is
// cobra's: find the command, parse its flags (a bad flag wins over --help), then help, then run.
import { exitCodeOf, formatError, UsageError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import { strconvQuote } from "../options/go-quote.js";
import { parseFlags, parseGoInt32 } from "../options/parse-flags.js";
import type { Runtime } from "../runtime.js";
import { CONVERT_ONLY_OPTIONS, GET_TOKEN_OPTIONS, GLOBAL_OPTIONS, ROOT_OPTIONS, type OptionSpec } from "../options/table.js";
import type { Command } from "./command.js";
import { COMMANDS } from "./commands.js";

export interface GlobalScan {
  /** The first positional argument, and where it stands. */
  readonly command: string | undefined;
  readonly commandIndex: number;
  /** klog's -v, for the logger; a bad value counts as 0 here and is reported by the flag parser. */
  readonly verbosity: number;
}

/** Every flag that takes a value, in any command: its value is never a command or -v. */
const VALUE_FLAGS: ReadonlySet<string> = new Set(
  [...GET_TOKEN_OPTIONS, ...CONVERT_ONLY_OPTIONS, ...GLOBAL_OPTIONS]
    .filter((o) => o.type !== "bool")
    .flatMap((o) => ("short" in o ? [o.flag, o.short] : [o.flag])),
);

/** Finds the subcommand as cobra does (skipping flags and the values of flags that take one), and klog's -v wherever it stands. */
export function scanGlobalFlags(argv: readonly string[]): GlobalScan {
  let command: string | undefined;
  let commandIndex = -1;
  let verbosity = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") {
      if (command === undefined) {
        command = arg;
        commandIndex = i;
      }
      continue;
    }
    const level = /^(?:--v(?:=(.*))?|-v(?:=?(.*))?)$/s.exec(arg);
    if (level) {
      const attached = level[1] ?? (level[2] === "" ? undefined : level[2]);
      const parsed = parseGoInt32(attached ?? argv[++i] ?? "");
      verbosity = typeof parsed === "number" ? parsed : 0;
    } else if (VALUE_FLAGS.has(arg)) i++;
  }
  return { command, commandIndex, verbosity };
}

export async function run(argv: readonly string[], rt: Runtime): Promise<number> {
  let log: Logger = createLogger(rt.stderr, 0, rt.clock, rt.pid);
  try {
    const scan = scanGlobalFlags(argv);
    log = createLogger(rt.stderr, scan.verbosity, rt.clock, rt.pid);
    if (scan.command === undefined) return await runRoot(argv, rt);
    const args = [...argv.slice(0, scan.commandIndex), ...argv.slice(scan.commandIndex + 1)];
    if (scan.command === "help") return await runHelpCommand(args, rt);
    const load = Object.hasOwn(COMMANDS, scan.command) ? COMMANDS[scan.command] : undefined;
    if (!load) throw new UsageError(unknownCommandMessage(scan.command, await visibleCommandNames()));
    const command = await load();
    if (command.deprecated) rt.stderr.write(`Command "${command.name}" is deprecated, ${command.deprecated}\n`);
    // Parsed here only to decide on help; the command parses its arguments itself.
    const flags = command.rawArgs ? undefined : parseFlags(args, command.options);
    if (flags?.help) {
      for (const notice of flags.deprecations) rt.stderr.write(`${notice}\n`);
      rt.stdout.write(await helpFor(command.name));
      return 0;
    }
    await command.run(args, { rt, log, argv });
    return 0;
  } catch (err) {
    rt.stderr.write(formatError(err, log.level > 0, log.secrets, OPTION_NAMES));
    return exitCodeOf(err);
  }
}

/** Every flag and environment variable name: hints and messages quote them, and they are never a secret's value. */
const OPTION_NAMES = [...GET_TOKEN_OPTIONS, ...CONVERT_ONLY_OPTIONS, ...GLOBAL_OPTIONS].flatMap((option: OptionSpec) => [
  option.flag,
  ...(option.env ?? []).map((rule) => rule.name),
]);

/** `kubelogin [flags]`: upstream's root RunE prints help; --help beats --version, as in cobra. */
async function runRoot(argv: readonly string[], rt: Runtime): Promise<number> {
  const flags = parseFlags(argv, ROOT_OPTIONS);
  const { helpText, versionText } = await import("./yargs-app.js");
  rt.stdout.write(!flags.help && flags.values.version === true ? await versionText(rt) : await helpText(undefined));
  return 0;
}

/** Cobra's `help [command]`: an unknown topic is named on stderr, followed by the root usage, exit 0. */
async function runHelpCommand(args: readonly string[], rt: Runtime): Promise<number> {
  const topic = parseFlags(args, GLOBAL_OPTIONS).positionals;
  const { helpText } = await import("./yargs-app.js");
  if (topic.length === 0 || topic[0] === "help") {
    rt.stdout.write(await helpText(undefined));
  } else if (Object.hasOwn(COMMANDS, topic[0]!)) {
    rt.stdout.write(await helpText(topic[0]));
  } else {
    rt.stderr.write(`Unknown help topic ${goQuoteStrings(topic)}\n${await helpText(undefined, { usageOnly: true })}`);
  }
  return 0;
}

async function visibleCommandNames(): Promise<string[]> {
  const commands: Command[] = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return commands.filter((c) => !c.hidden && !c.deprecated).map((c) => c.name).sort();
}

/** Cobra's legacyArgs error with findSuggestions: Levenshtein distance ≤ 2 (case-insensitive) or a prefix. */
export function unknownCommandMessage(typed: string, commands: readonly string[]): string {
  const suggestions = commands.filter(
    (name) => levenshtein(typed.toLowerCase(), name.toLowerCase()) <= 2 || name.toLowerCase().startsWith(typed.toLowerCase()),
  );
  const didYouMean = suggestions.length > 0 ? `\n\nDid you mean this?\n${suggestions.map((s) => `\t${s}\n`).join("")}` : "";
  return `unknown command ${strconvQuote(typed)} for "kubelogin"${didYouMean}\nRun 'kubelogin --help' for usage.`;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** fmt's `%#q` of a []string: each element backquoted when strconv.CanBackquote allows, else `%q`. */
function goQuoteStrings(values: readonly string[]): string {
  const canBackquote = (s: string): boolean => !/[`\x00-\x08\x0a-\x1f\x7f\ufeff]/.test(s);
  return `[${values.map((s) => (canBackquote(s) ? `\`${s}\`` : strconvQuote(s))).join(" ")}]`;
}

async function helpFor(name: string): Promise<string> {
  const { helpText } = await import("./yargs-app.js");
  return helpText(name);
}
