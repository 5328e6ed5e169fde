// npm run build: two CommonJS bundles (CommonJS because an ES module entry costs Node more to start).
// - dist/main.js, the published entry: the cached get-token (src/fast-path/serve-cached.ts) and
//   nothing else. Every dynamic import in it is the cold path's and is left out: main.ts's import
//   of the full CLI becomes a require of the second bundle, any other one throws if reached (the
//   fast path then hands over). node:crypto and node:fs/promises are replaced by the small shims
//   in src/fast-path/, which are what a hit needs of them. The build fails if a package slips in.
// - dist/cold/full-cli.js, the full CLI with its packages, so a cache miss reads one file instead
//   of walking hundreds. It sits two levels down so that yargs-app.ts finds ../../package.json.
import { build } from "esbuild";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist`;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
// package.json says "type": "module"; these bundles are CommonJS.
writeFileSync(`${dist}/package.json`, `${JSON.stringify({ type: "commonjs" })}\n`);

const common = { absWorkingDir: root, bundle: true, platform: "node", target: "node20", format: "cjs", logLevel: "warning", legalComments: "none" };

const coldPathOnly = {
  name: "cold-path-only",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== "dynamic-import" || args.path.startsWith("node:")) return undefined;
      // A require, not an import(): that would start Node's ES module loader on every miss.
      if (args.path === "./full-cli.js" && args.importer.endsWith("/src/main.ts")) return { path: "full-cli", namespace: "cold-bundle" };
      return { path: args.path, namespace: "cold-path-only" };
    });
    b.onLoad({ filter: /.*/, namespace: "cold-bundle" }, () => ({ contents: 'module.exports = require("./cold/full-cli.js");', loader: "js" }));
    b.onResolve({ filter: /^\.\/cold\/full-cli\.js$/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: "cold-path-only" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the fast path's bundle`)});`,
      loader: "js",
    }));
  },
};

const fast = await build({
  ...common,
  entryPoints: ["src/main.ts"],
  outfile: "dist/main.js",
  plugins: [coldPathOnly],
  alias: { "node:crypto": "./src/fast-path/crypto-shim.ts", "node:fs/promises": "./src/fast-path/fs-promises-shim.ts" },
  metafile: true,
});
const packages = Object.keys(fast.metafile.inputs).filter((input) => input.includes("node_modules/"));
if (packages.length > 0) throw new Error(`the fast path's bundle must hold no package, but holds ${packages.join(", ")}`);
writeFileSync(`${dist}/main.meta.json`, JSON.stringify(fast.metafile));
chmodSync(`${dist}/main.js`, 0o755);

await build({
  ...common,
  entryPoints: ["src/full-cli.ts"],
  outfile: "dist/cold/full-cli.js",
  // yargs 18 is ES-module code that reads import.meta.url; in CommonJS it is this file's URL.
  define: { "import.meta.url": "__importMetaUrl" },
  banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});
