import type { Logger } from "../log.js";
import type { OptionSpec } from "../options/table.js";
import type { Runtime } from "../runtime.js";

export interface CommandContext {
  readonly rt: Runtime;
  readonly log: Logger;
  /** The whole command line, command included: what the fast path's index is named after. */
  readonly argv: readonly string[];
}

/** One subcommand. run.ts loads it lazily; yargs-app.ts renders its help from the same data. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly hidden?: boolean;
  /** Printed to stderr before running, like cobra's `Command "x" is deprecated, …`. */
  readonly deprecated?: string;
  /** Takes its arguments as they are, flags included (cobra's __complete): run.ts does not parse them. */
  readonly rawArgs?: true;
  /** Flags in declaration order (help lists them sorted, as cobra does). */
  readonly options: readonly OptionSpec[];
  /** `args` are everything after the command name; throws KubeloginError on failure. */
  run(args: readonly string[], ctx: CommandContext): Promise<void>;
}
