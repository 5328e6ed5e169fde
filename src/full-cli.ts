// The full CLI: the second bundle (dist/cold/full-cli.js), which main.ts loads when the fast path
// did not serve a cached token. Its runtime is built here, from this bundle's modules.
import { run } from "./cli/run.js";
import { nodeRuntime } from "./runtime.js";

export function runCli(argv: readonly string[]): Promise<number> {
  return run(argv, nodeRuntime());
}
