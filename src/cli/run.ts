// run(argv, rt) → exit code. The only place that turns an error into stderr text and an exit
// code. Subcommands are dispatched here directly, so a cached get-token never loads yargs
// (+100 ms); yargs renders help, --version and the command tree (yargs-app.ts).
import { exitCodeOf, formatError, UsageError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import type { Runtime } from "../runtime.js";
import { COMMANDS } from "./commands.js";

export interface GlobalScan {
  /** The first positional argument, and where it stands. */
  readonly command: string | undefined;
  readonly commandIndex: number;
  readonly verbosity: number;
  readonly help: boolean;
  readonly version: boolean;
}

/** Finds the subcommand and the klog/help flags wherever they appear (cobra's persistent flags). */
export function scanGlobalFlags(argv: readonly string[]): GlobalScan {
  let command: string | undefined;
  let commandIndex = -1;
  let verbosity = 0;
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    const level = /^--?v(?:=(.*)|(\d.*))?$/.exec(arg);
    if (level) {
      const raw = level[1] ?? level[2] ?? argv[++i] ?? "";
      verbosity = parseLevel(raw);
    } else if (arg === "-h" || arg === "--help") help = true;
    else if (arg === "--version") version = true;
    else if (command === undefined && !arg.startsWith("-")) {
      command = arg;
      commandIndex = i;
    }
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
