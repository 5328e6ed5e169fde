// run(argv, rt) → exit code. The only place that turns an error into stderr text and an exit
// code. Subcommands are dispatched here directly, so a cached get-token never loads yargs
// (+100 ms); yargs renders help, --version and the command tree (yargs-app.ts).
import { exitCodeOf, formatError, UsageError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import type { Runtime } from "../runtime.js";
import { CONVERT_ONLY_OPTIONS, GET_TOKEN_OPTIONS, GLOBAL_OPTIONS } from "../options/table.js";
import { COMMANDS } from "./commands.js";

export interface GlobalScan {
  /** The first positional argument, and where it stands. */
  readonly command: string | undefined;
  readonly commandIndex: number;
  readonly verbosity: number;
  readonly help: boolean;
  readonly version: boolean;
}

/** Every flag that takes a value, in any command: its value is never a command, -h or -v. */
const VALUE_FLAGS: ReadonlySet<string> = new Set(
  [...GET_TOKEN_OPTIONS, ...CONVERT_ONLY_OPTIONS, ...GLOBAL_OPTIONS]
    .filter((o) => o.type !== "bool")
    .flatMap((o) => ("short" in o ? [o.flag, o.short] : [o.flag])),
);

/**
 * Finds the subcommand as cobra does (skipping flags and the values of flags that take one), and
 * klog's -v and help wherever they stand. `--version` counts only before a command: it is a
 * root-only flag, so after one the command's own parser rejects it.
 */
export function scanGlobalFlags(argv: readonly string[]): GlobalScan {
  let command: string | undefined;
  let commandIndex = -1;
  let verbosity = 0;
  let help = false;
  let version = false;
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
      if (attached === undefined && i + 1 >= argv.length) {
        throw new UsageError(arg === "--v" ? "flag needs an argument: --v" : "flag needs an argument: 'v' in -v");
      }
      verbosity = parseLevel(attached ?? argv[++i]!);
    } else if (arg === "-h" || arg === "--help") help = true;
    else if (arg === "--version" && command === undefined) version = true;
    else if (VALUE_FLAGS.has(arg)) i++;
  }
  return { command, commandIndex, verbosity, help, version };
}

function parseLevel(raw: string): number {
  if (!/^[+-]?\d+$/.test(raw)) throw new UsageError(`invalid argument "${raw}" for "-v, --v" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`);
  return Number(raw);
}

export async function run(argv: readonly string[], rt: Runtime): Promise<number> {
  let log: Logger = createLogger(rt.stderr, 0, rt.clock, rt.pid);
  try {
    const scan = scanGlobalFlags(argv);
    log = createLogger(rt.stderr, scan.verbosity, rt.clock, rt.pid);
    const load = scan.command === undefined ? undefined : COMMANDS[scan.command];
    if (scan.help || scan.version || scan.command === undefined || scan.command === "help") {
      const { renderHelp } = await import("./yargs-app.js");
      return await renderHelp(argv, scan, rt);
    }
    if (!load) {
      throw new UsageError(`unknown command "${scan.command}" for "kubelogin"\nRun 'kubelogin --help' for usage.`);
    }
    const command = await load();
    if (command.deprecated) rt.stderr.write(`Command "${command.name}" is deprecated, ${command.deprecated}\n`);
    await command.run([...argv.slice(0, scan.commandIndex), ...argv.slice(scan.commandIndex + 1)], { rt, log });
    return 0;
  } catch (err) {
    rt.stderr.write(formatError(err, log.level > 0, log.secrets));
    return exitCodeOf(err);
  }
}
