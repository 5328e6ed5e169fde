// What `kubelogin --version` reports about the build, computed once by scripts/build.mjs and
// embedded in the bundle. The "git hash" value follows upstream's rules (compat spec §0.1):
// `v<version>/<commit>` from a git checkout, `-dirty` appended when the tree has uncommitted
// changes (untracked files count, as `go build`'s vcs.modified does), and just `v<version>` when
// the sources are not a git checkout (an unpacked tarball, say).
// Run directly (`node scripts/build-info.mjs <dir>`) it prints the JSON, which the tests use.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

function git(root, args) {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined; // no git on PATH, or not a checkout
  }
}

/** @returns {{ version: string, gitHash: string, buildTime: string }} */
export function buildInfo(root, now = new Date()) {
  const { version } = JSON.parse(readFileSync(`${root}/package.json`, "utf8"));
  // Only the root of a checkout counts: this keeps a parent directory's repository from claiming an unpacked tarball.
  const inCheckout = git(root, ["rev-parse", "--show-prefix"]) === "";
  const commit = inCheckout ? git(root, ["rev-parse", "HEAD"]) : undefined;
  const dirty = commit !== undefined && git(root, ["status", "--porcelain"]) !== "";
  return {
    version,
    gitHash: commit === undefined ? `v${version}` : `v${version}/${commit}${dirty ? "-dirty" : ""}`,
    // Go's layout, to the second: 2026-08-14T18:03:09Z.
    buildTime: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(buildInfo(process.argv[2] ?? process.cwd()))}\n`);
}
