// `kubelogin --version` of the built bundle carries the build's facts (issue 13 item 4), and
// scripts/build-info.mjs derives the "git hash" value by upstream's rules (compat spec §0.1).
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { KUBELOGIN_BIN, runProcess } from "../support/local-stack.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUILD_INFO = join(ROOT, "scripts/build-info.mjs");

test("the built --version names our version, the commit it was built from, Node and the build time", async () => {
  const { version } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
  const result = await runProcess(process.execPath, [KUBELOGIN_BIN, "--version"], { PATH: process.env.PATH ?? "" });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const lines = result.stdout.split("\n");
  expect(lines[0]).toBe("kubelogin version ");
  // The tree may be modified while tests run on a working copy, or HEAD moved on since the build:
  // the commit is HEAD or one of its ancestors.
  const hash = new RegExp(`^git hash: v${version.replaceAll(".", "\\.")}/([0-9a-f]{40})(-dirty)?$`).exec(lines[1]!);
  expect(hash, lines[1]).not.toBeNull();
  expect(() => execFileSync("git", ["merge-base", "--is-ancestor", hash![1]!, "HEAD"], { cwd: ROOT, stdio: "ignore" })).not.toThrow();
  expect(lines[2]).toBe(`Runtime version: node ${process.version}`);
  expect(lines[3]).toMatch(/^Build time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(lines[4]).toBe("Platform: linux/amd64");
  expect(lines).toHaveLength(6);
});

describe("the git hash value", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kubelogin-build-info-"));
    await writeFile(join(dir, "package.json"), JSON.stringify({ version: "1.2.3" }));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir, encoding: "utf8" }).trim();
  const gitHashOf = async (root: string) => {
    const result = await runProcess(process.execPath, [BUILD_INFO, root], { PATH: process.env.PATH ?? "" });
    expect(result.code).toBe(0);
    return (JSON.parse(result.stdout) as { gitHash: string }).gitHash;
  };
  const commitAll = () => {
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "init");
    return git("rev-parse", "HEAD");
  };

  test("outside git it is the package version", async () => {
    expect(await gitHashOf(dir)).toBe("v1.2.3");
  });

  test("in a clean checkout it is version/commit", async () => {
    const head = commitAll();
    expect(await gitHashOf(dir)).toBe(`v1.2.3/${head}`);
  });

  test.each([
    ["a modified file", () => writeFile(join(dir, "package.json"), JSON.stringify({ version: "1.2.3", x: 1 }))],
    ["an untracked file", () => writeFile(join(dir, "new.ts"), "")],
  ])("%s marks the commit -dirty", async (_name, change) => {
    const head = commitAll();
    await change();
    expect(await gitHashOf(dir)).toBe(`v1.2.3/${head}-dirty`);
  });

  test("sources unpacked inside another repository do not take its commit", async () => {
    commitAll();
    const unpacked = join(dir, "unpacked");
    await mkdir(unpacked);
    await writeFile(join(unpacked, "package.json"), JSON.stringify({ version: "4.5.6" }));
    expect(await gitHashOf(unpacked)).toBe("v4.5.6");
  });
});
