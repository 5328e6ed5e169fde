// npm run package: dist/kubelogin, one executable for this platform that needs no Node on PATH
// (Node's single-executable applications; the configuration is pkg.config.json, the toolchain
// facts in ../shared/toolchain.md (f)). An SEA's require() reaches only built-in modules, so the
// code is one bundle, fast path and full CLI together, rather than npm's three files. The keychain
// addon (keytar) is not embedded: the executable keeps refresh tokens in files, or fails clearly
// with --cache-backend keychain.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildInfo } from "./build-info.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const config = JSON.parse(readFileSync(`${root}pkg.config.json`, "utf8"));
mkdirSync(`${root}dist/sea`, { recursive: true });

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
  define: {
    "import.meta.url": "__importMetaUrl",
    ...Object.fromEntries(Object.entries(buildInfo(root)).map(([key, value]) => [`__KUBELOGIN_BUILD_${key.toUpperCase()}__`, JSON.stringify(value)])),
  },
  // First: Node 20's SEA warns on stderr when the main script calls require(), and kubectl shows
  // a plugin's stderr to the user. kubelogin itself never emits process warnings.
  banner: { js: 'process.removeAllListeners("warning");const __importMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
});
execFileSync(process.execPath, ["--experimental-sea-config", "pkg.config.json"], { cwd: root, stdio: "inherit" });
const exe = `${root}dist/kubelogin`;
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
execFileSync(process.execPath, [
  `${root}node_modules/postject/dist/cli.js`, exe, "NODE_SEA_BLOB", config.output,
  "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
  // Its "Can't find string offset for section name '.note.100'" lines are harmless: shown only on failure.
], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
