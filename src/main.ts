#!/usr/bin/env node
import { run } from "./cli/run.js";
import { nodeRuntime } from "./runtime.js";

// stdout and stderr are written synchronously (runtime.ts), so nothing is left to flush; exiting
// at once also ends what --timeout abandoned (a socket, a child process).
process.exit(await run(process.argv.slice(2), nodeRuntime()));
