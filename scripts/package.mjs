// npm run package: dist/kubelogin, one executable for this platform that needs no Node on PATH
// (Node's single-executable applications; the configuration is pkg.config.json, the toolchain
// facts in ../shared/toolchain.md (f)). An SEA's require() reaches only built-in modules, so the
// code is one bundle, fast path and full CLI together, rather than npm's three files, and the
// keychain addon (keytar) travels as an asset that src/cache/keytar-addon.ts writes to a private
// place and loads; where keytar was not built (no libsecret-1-dev), the executable has no keychain
// and says so when asked for one.
//
// The executable embeds the Node that scripts/install-test-deps.sh puts in .cache/node24 when it is
// there, else the Node running this script (KUBELOGIN_SEA_NODE names another); the blob is made by
// that same binary, as it must be. Cached get-token (spn secret), medians of 30 interleaved runs on
// the 2-core build machine under load: MEASUREMENTS
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildInfo } from "./build-info.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const config = JSON.parse(readFileSync(`${root}pkg.config.json`, "utf8"));
mkdirSync(`${root}dist/sea`, { recursive: true });

const node24 = `${root}.cache/node24/bin/node`;
const node = process.env.KUBELOGIN_SEA_NODE || (existsSync(node24) ? node24 : process.execPath);
const nodeVersion = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
const why = process.env.KUBELOGIN_SEA_NODE ? "KUBELOGIN_SEA_NODE" : node === node24 ? "scripts/install-test-deps.sh's" : "the Node running this script: there is no .cache/node24";
console.log(`package: dist/kubelogin embeds Node ${nodeVersion}, ${node} (${why})`);

const assets = {};
for (const [name, file] of Object.entries(config.assets ?? {})) {
  if (existsSync(`${root}${file}`)) assets[name] = file;
  else console.log(`package: ${file} is missing, so dist/kubelogin has no ${name} (for keytar: libsecret-1-dev, then npm rebuild keytar)`);
}
const seaConfig = `${root}dist/sea/sea-config.json`;
writeFileSync(seaConfig, `${JSON.stringify({ ...config, assets }, null, 2)}\n`);

await build({
  absWorkingDir: root,
  entryPoints: ["src/fast-path/entry.ts"],
  outfile: config.main,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  logLevel: "warning",
  legalComments: "none",
  // import() as require(): Node 20 runs an SEA's main script with no dynamic import callback, so a
  // kept import("node:child_process") (az, the browser, Arc and Service Fabric MSI) would throw.
  supported: { "dynamic-import": false },
  define: {
    "import.meta.url": "__importMetaUrl",
    ...Object.fromEntries(Object.entries(buildInfo(root)).map(([key, value]) => [`__KUBELOGIN_BUILD_${key.toUpperCase()}__`, JSON.stringify(value)])),
  },
  // First: Node 20's SEA warns on stderr when the main script calls require(), and kubectl shows
  // a plugin's stderr to the user. kubelogin itself never emits process warnings.
  banner: { js: 'process.removeAllListeners("warning");const __importMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
});
execFileSync(node, ["--experimental-sea-config", seaConfig], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
const exe = `${root}dist/kubelogin`;
copyFileSync(node, exe);
chmodSync(exe, 0o755);
execFileSync(process.execPath, [
  `${root}node_modules/postject/dist/cli.js`, exe, "NODE_SEA_BLOB", config.output,
  "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
  // Its "Can't find string offset for section name '.note.100'" lines are harmless: shown only on failure.
], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
