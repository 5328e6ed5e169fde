#!/usr/bin/env node
import { run } from "./cli/run.js";
import { nodeRuntime } from "./runtime.js";

const code = await run(process.argv.slice(2), nodeRuntime());
process.exitCode = code;
// A request abandoned by --timeout may still hold a socket open; once stdout has drained there
// is nothing left to wait for.
process.stdout.write("", () => process.exit(code));
