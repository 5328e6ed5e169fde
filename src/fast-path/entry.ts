// The fast path's bundle (dist/fast-path.js, scripts/build.mjs), which main.ts loads: a cached
// get-token is served here alone; anything else loads the full CLI, a second bundle, and runs it
// from the start.
import { nodeRuntime } from "../runtime.js";
import { serveCachedToken } from "./serve-cached.js";

const argv = process.argv.slice(2);
// stdout and stderr are written synchronously (runtime.ts), so nothing is left to flush; exiting
// at once also ends what --timeout abandoned (a socket, a child process).
void serveCachedToken(argv, nodeRuntime())
  .then(async (served) => {
    if (served) return 0;
    const { runCli } = await import("../full-cli.js");
    return runCli(argv);
  })
  .then((code) => process.exit(code));
