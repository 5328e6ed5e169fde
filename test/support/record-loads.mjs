// node --import ./record-loads.mjs …: records every module the program loads in $KUBELOGIN_LOAD_LOG,
// one URL a line (file:// for files, node:<name> for built-ins). ES modules through a resolve hook
// (load-recorder-hooks.mjs); CommonJS requires, which that hook does not see on Node 20 (the
// bundles in dist/ are CommonJS), through Module._load. With $KUBELOGIN_READ_LOG, also every path
// the program opens, reads or lists through node:fs, one `<function> <path>` a line.
import fs, { appendFileSync } from "node:fs";
import Module, { builtinModules, register } from "node:module";
import { pathToFileURL } from "node:url";

register("./load-recorder-hooks.mjs", import.meta.url);

const log = process.env.KUBELOGIN_LOAD_LOG;
if (log) {
  const load = Module._load;
  Module._load = function recordedLoad(request, parent, isMain) {
    const bare = request.startsWith("node:") ? request.slice(5) : request;
    const url = builtinModules.includes(bare) ? `node:${bare}` : pathToFileURL(Module._resolveFilename(request, parent, isMain)).href;
    appendFileSync(log, `${url}\n`);
    return load.apply(this, arguments);
  };
}

const readLog = process.env.KUBELOGIN_READ_LOG;
if (readLog) {
  const record = (name, path) => {
    // A descriptor was recorded when it was opened.
    if (typeof path !== "number") appendFileSync(readLog, `${name} ${path instanceof URL ? path.pathname : String(path)}\n`);
  };
  const wrap = (target, names, prefix) => {
    for (const name of names) {
      const original = target[name];
      target[name] = function recordedRead(path, ...rest) {
        record(`${prefix}${name}`, path);
        return original.call(this, path, ...rest);
      };
    }
  };
  wrap(fs, ["openSync", "readFileSync", "readdirSync", "open", "readFile", "readdir", "createReadStream"], "");
  wrap(fs.promises, ["open", "readFile", "readdir"], "promises.");
}
