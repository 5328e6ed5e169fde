#!/usr/bin/env node
import { run } from "./cli/run.js";
import { nodeRuntime } from "./runtime.js";

process.exitCode = await run(process.argv.slice(2), nodeRuntime());
