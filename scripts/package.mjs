// npm run package: dist/kubelogin, one executable for this platform that needs no Node on PATH
// (Node's single-executable applications; the configuration is pkg.config.json, the toolchain
// facts in ../shared/toolchain.md (f)). It holds npm's bundles as they are (npm run build makes
// them first) with V8's code cache for each, run by scripts/sea-main.cjs because an SEA's require()
// reaches only built-in modules; and the keychain addon (keytar), which src/cache/keytar-addon.ts
// writes to a private place and loads. Where keytar was not built (no libsecret-1-dev), the
// executable has no keychain and says so when asked for one.
//
// The executable embeds the Node that scripts/install-test-deps.sh puts in .cache/node24 when it is
// there, else the Node running this script (KUBELOGIN_SEA_NODE names another); the blob and the
// code caches are made by that same binary, as they must be. Node 24.22 has no `--build-sea`
// (node --help), and its fuse is Node 20's. Cached get-token (spn secret), medians of 30 interleaved
// runs on a 2-core machine under heavy load (so compare within a column more than the ms):
//                                                        Node 24.22   Node 20.20
//   `node -e 0`                                            214 ms       333 ms
//   npm's dist/main.js                                     317 ms       489 ms
//   SEA, npm's bundles as assets with code caches (this)   266 ms       475 ms   (124 / 97 MiB)
//   the same without the code caches                       328 ms
//   SEA, one bundle of everything, useCodeCache            332 ms       522 ms
//   SEA, one bundle of everything, no code cache           574 ms
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const config = JSON.parse(readFileSync(`${root}pkg.config.json`, "utf8"));
rmSync(`${root}dist/sea`, { recursive: true, force: true });
mkdirSync(`${root}dist/sea`, { recursive: true });

const node24 = `${root}.cache/node24/bin/node`;
const node = process.env.KUBELOGIN_SEA_NODE || (existsSync(node24) ? node24 : process.execPath);
const nodeVersion = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
const why = process.env.KUBELOGIN_SEA_NODE ? "KUBELOGIN_SEA_NODE" : node === node24 ? "scripts/install-test-deps.sh's" : "the Node running this script: there is no .cache/node24";
console.log(`package: dist/kubelogin embeds Node ${nodeVersion}, ${node} (${why})`);

// npm's bundles with import() as require(): Node 20 runs code in an SEA with no dynamic import
// callback, so a kept import("node:child_process") (az, the browser, Arc and Service Fabric MSI) throws.
for (const entry of readdirSync(`${root}dist`, { recursive: true, withFileTypes: true })) {
  const file = `${entry.parentPath ?? entry.path}/${entry.name}`;
  if (!entry.isFile() || !entry.name.endsWith(".js") || file.startsWith(`${root}dist/sea/`)) continue;
  const { code } = await transform(readFileSync(file, "utf8"), { loader: "js", format: "cjs", target: "node20", minifyWhitespace: true, supported: { "dynamic-import": false } });
  const out = `${root}dist/sea/bundles/${file.slice(`${root}dist/`.length)}`;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
}
// The bundles main.js reaches, each with its code cache.
const bundles = JSON.parse(execFileSync(node, [`${root}scripts/sea-main.cjs`, `${root}dist/sea/bundles`], { encoding: "utf8" }));
const assets = Object.fromEntries(bundles.flatMap((name) => [[name, `dist/sea/bundles/${name}`], [`${name}.v8cache`, `dist/sea/bundles/${name}.v8cache`]]));
for (const [name, file] of Object.entries(config.assets ?? {})) {
  if (existsSync(`${root}${file}`)) assets[name] = file;
  else console.log(`package: ${file} is missing, so dist/kubelogin has no ${name} (for keytar: libsecret-1-dev, then npm rebuild keytar)`);
}
const seaConfig = `${root}dist/sea/sea-config.json`;
writeFileSync(seaConfig, `${JSON.stringify({ ...config, assets }, null, 2)}\n`);

execFileSync(node, ["--experimental-sea-config", seaConfig], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
const exe = `${root}dist/kubelogin`;
copyFileSync(node, exe);
chmodSync(exe, 0o755);
execFileSync(process.execPath, [
  `${root}node_modules/postject/dist/cli.js`, exe, "NODE_SEA_BLOB", config.output,
  "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
  // Its "Can't find string offset for section name '.note.100'" lines are harmless: shown only on failure.
], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
