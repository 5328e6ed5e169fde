#!/usr/bin/env node
// The published entry (dist/main.js, a CommonJS bundle: scripts/build.mjs). A cached get-token is
// served by the fast path alone; anything else loads the full CLI, a second bundle, and runs it
// from the start.
import { serveCachedToken } from "./fast-path/serve-cached.js";
import { nodeRuntime } from "./runtime.js";

const argv = process.argv.slice(2);
// stdout and stderr are written synchronously (runtime.ts), so nothing is left to flush; exiting
// at once also ends what --timeout abandoned (a socket, a child process).
void serveCachedToken(argv, nodeRuntime())
  .then(async (served) => {
    if (served) return 0;
    const { runCli } = await import("./full-cli.js");
    return runCli(argv);
  })
  .then((code) => process.exit(code));
