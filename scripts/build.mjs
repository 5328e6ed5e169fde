// npm run build: two CommonJS bundles (CommonJS because an ES module entry costs Node more to
// start), the first loading the second with a plain require only when it needs to:
// - dist/main.js, the published entry (src/main.ts): the fast path (src/fast-path/entry.ts), which
//   answers a cached get-token from its index and nothing else. Any other dynamic import in its
//   code is the cold path's and is left out (it throws if reached). The build fails if a package
//   slips into it.
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
const SEAMS = [{ importer: "/src/fast-path/entry.ts", path: "../full-cli.js", bundle: "./cold/full-cli.js" }];

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

const buildDefines = Object.fromEntries(Object.entries(buildInfo(root)).map(([key, value]) => [`__KUBELOGIN_BUILD_${key.toUpperCase()}__`, JSON.stringify(value)]));
const entry = await build({ ...common, entryPoints: ["src/main.ts"], outfile: "dist/main.js", plugins: [coldPathOnly], minify: !process.env.KUBELOGIN_NO_MINIFY, metafile: true, define: buildDefines });
const packages = Object.keys(entry.metafile.inputs).filter((input) => input.includes("node_modules/"));
if (packages.length > 0) throw new Error(`the fast path's bundle must hold no package, but holds ${packages.join(", ")}`);
writeFileSync(`${dist}/fast-path.meta.json`, JSON.stringify({ inputs: entry.metafile.inputs }));
chmodSync(`${dist}/main.js`, 0o755);

await build({
  ...common,
  entryPoints: ["src/full-cli.ts"],
  outfile: "dist/cold/full-cli.js",
  // yargs 18 is ES-module code that reads import.meta.url; in CommonJS it is this file's URL.
  // --version's build facts (src/cli/yargs-app.ts), fixed at build time.
  define: {
    "import.meta.url": "__importMetaUrl",
    ...buildDefines,
  },
  banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});
