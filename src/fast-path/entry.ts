// What the published entry runs (dist/main.js, and the single executable): a cached get-token is
// answered from the fast path's index (hit-index.ts) by this small bundle alone; anything else
// loads the full CLI, a second bundle, and runs it from the start.
import { fdOutput } from "../stdio.js";
import { enableCompileCache } from "./compile-cache.js";
import { serveFromIndex } from "./hit-index.js";

const argv = process.argv.slice(2);
const call = { argv, env: process.env, cwd: process.cwd(), uid: process.getuid?.() ?? -1 };
if (!(argv.includes("get-token") && serveFromIndex(call, Date.now(), fdOutput(1)))) {
  enableCompileCache(call.uid);
  // stdout and stderr are written synchronously (stdio.ts), so nothing is left to flush; exiting
  // at once also ends what --timeout abandoned (a socket, a child process).
  void import("../full-cli.js").then(({ runCli }) => runCli(argv)).then((code) => process.exit(code));
}
