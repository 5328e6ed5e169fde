// The single executable's main script (scripts/package.mjs). npm's bundles (dist/main.js and the
// files it requires) are the executable's assets, each beside V8's code cache for it, made at
// packaging time by the same Node binary; this runs them as CommonJS modules. So, as with npm, a
// cached get-token compiles only the fast path's 90 kB, never the full CLI's 2.7 MB: measured, one
// bundle of everything made the cached path a quarter slower (scripts/package.mjs has the figures).
//
// Run by plain Node (not as an SEA) it writes those code caches beside the bundles:
// `node sea-main.cjs <dir>`, so that they come from exactly the compile() the executable runs.
"use strict";
// First: Node 20's SEA warns on stderr when the main script calls require(), and kubectl shows a
// plugin's stderr to the user. kubelogin itself never emits process warnings.
process.removeAllListeners("warning");
const { readFileSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const sea = require("node:sea");
const vm = require("node:vm");

const ENTRY = "main.js";

/** A bundle as a function of CommonJS's five arguments. */
function compile(source, filename, cachedData) {
  // main.js's #! line is a comment only on a file's first line.
  return new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source.replace(/^#!/, "//")}\n})`, {
    filename,
    ...(cachedData ? { cachedData } : {}),
  });
}

if (sea.isSea()) {
  const modules = new Map();
  const load = (name) => {
    const known = modules.get(name);
    if (known) return known.exports;
    const module = { exports: {} };
    modules.set(name, module);
    // Inside the executable, as far as stack traces and import.meta.url are concerned.
    const filename = path.join(process.execPath, name);
    const script = compile(sea.getAsset(name, "utf8"), filename, new Uint8Array(sea.getRawAsset(`${name}.v8cache`)));
    // A relative require is another bundle (an asset); anything else is a built-in.
    const requireHere = (id) => (id.startsWith("./") || id.startsWith("../") ? load(path.posix.join(path.posix.dirname(name), id)) : require(id));
    script.runInThisContext().call(module.exports, module.exports, requireHere, module, filename, path.dirname(filename));
    return module.exports;
  };
  load(ENTRY);
} else {
  const [dir] = process.argv.slice(2);
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const source = readFileSync(path.join(dir, name), "utf8");
    writeFileSync(path.join(dir, `${name}.v8cache`), compile(source, name).createCachedData());
    // The bundles load each other with plain relative requires (scripts/build.mjs).
    for (const [, id] of source.matchAll(/require\("(\.\.?\/[^"]+)"\)/g)) visit(path.posix.join(path.posix.dirname(name), id));
  };
  visit(ENTRY);
  process.stdout.write(`${JSON.stringify([...seen])}\n`);
}
