// npm run build: three CommonJS bundles (CommonJS because an ES module entry costs Node more to
// start), each loading the next with a plain require only when it needs to:
// - dist/main.js, the published entry (src/main.ts): turns on Node 22+'s compile cache, so that
//   what follows is compiled once, then loads the fast path.
// - dist/fast-path.js: the cached get-token (src/fast-path/serve-cached.ts) and nothing else.
//   Every other dynamic import in its code is the cold path's and is left out (it throws if
//   reached, and the fast path then hands over). node:crypto and node:fs/promises are replaced
//   by the small shims in src/fast-path/, which are what a hit needs of them. The build fails if
//   a package slips into either of these two.
// - dist/cold/full-cli.js, the full CLI with its packages, so a cache miss reads one file instead
//   of walking hundreds. It sits two levels down so that yargs-app.ts finds ../../package.json.
// tsc only type-checks (npm run build runs it first); vitest runs the sources.
import { build } from "esbuild";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildInfo } from "./build-info.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist`;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
// package.json says "type": "module"; these bundles are CommonJS.
writeFileSync(`${dist}/package.json`, `${JSON.stringify({ type: "commonjs" })}\n`);

const common = { absWorkingDir: root, bundle: true, platform: "node", target: "node20", format: "cjs", logLevel: "warning", legalComments: "none" };

/** Where one bundle hands over to the next: the dynamic import that becomes a require of another bundle (paths relative to dist/). */
const SEAMS = [
  { importer: "/src/main.ts", path: "./fast-path/entry.js", bundle: "./fast-path.js" },
  { importer: "/src/fast-path/entry.ts", path: "../full-cli.js", bundle: "./cold/full-cli.js" },
];

const coldPathOnly = {
  name: "cold-path-only",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== "dynamic-import" || args.path.startsWith("node:")) return undefined;
      const next = SEAMS.find((seam) => args.importer.endsWith(seam.importer) && args.path === seam.path);
      // A require, not an import(): that would start Node's ES module loader.
      if (next) return { path: next.bundle, namespace: "next-bundle" };
      return { path: args.path, namespace: "cold-path-only" };
    });
    b.onLoad({ filter: /.*/, namespace: "next-bundle" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
    b.onResolve({ filter: /.*/ }, (args) => (SEAMS.some((seam) => seam.bundle === args.path) ? { path: args.path, external: true } : undefined));
    b.onLoad({ filter: /.*/, namespace: "cold-path-only" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the fast path's bundle`)});`,
      loader: "js",
    }));
  },
};

const entry = await build({ ...common, entryPoints: ["src/main.ts"], outfile: "dist/main.js", plugins: [coldPathOnly], minify: true, metafile: true });
const fast = await build({
  ...common,
  entryPoints: ["src/fast-path/entry.ts"],
  outfile: "dist/fast-path.js",
  plugins: [coldPathOnly],
  minify: true,
  alias: { "node:crypto": "./src/fast-path/crypto-shim.ts", "node:fs/promises": "./src/fast-path/fs-promises-shim.ts" },
  metafile: true,
});
const packages = Object.keys({ ...entry.metafile.inputs, ...fast.metafile.inputs }).filter((input) => input.includes("node_modules/"));
if (packages.length > 0) throw new Error(`the fast path's bundles must hold no package, but hold ${packages.join(", ")}`);
writeFileSync(`${dist}/fast-path.meta.json`, JSON.stringify({ inputs: { ...entry.metafile.inputs, ...fast.metafile.inputs } }));
chmodSync(`${dist}/main.js`, 0o755);

await build({
  ...common,
  entryPoints: ["src/full-cli.ts"],
  outfile: "dist/cold/full-cli.js",
  // yargs 18 is ES-module code that reads import.meta.url; in CommonJS it is this file's URL.
  // --version's build facts (src/cli/yargs-app.ts), fixed at build time.
  define: {
    "import.meta.url": "__importMetaUrl",
    ...Object.fromEntries(Object.entries(buildInfo(root)).map(([key, value]) => [`__KUBELOGIN_BUILD_${key.toUpperCase()}__`, JSON.stringify(value)])),
  },
  banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});
