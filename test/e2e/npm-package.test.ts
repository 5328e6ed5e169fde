// The npm package (issue 13 item 2): the tarball `npm pack` makes, installed into an empty prefix
// as `npm install -g` would, gives a kubelogin that works from PATH. This catches files missing
// from `files` and runtime packages left out of the bundle (they are devDependencies: the bundles
// hold them). Offline: the only dependency, keytar (optional), is in npm's cache after `npm ci`.
import { mkdtemp, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { KUBECTL_VERSIONS } from "../support/kubectl.js";
import { loadTestPki } from "../support/pki.js";
import { runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let stack: LocalStack;
let dir: string;
let prefixBin: string;

/** npm with this machine's settings, minus what `npm test` exports to its children (npm_config_*). */
function npm(args: readonly string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith("npm_") && e[1] !== undefined));
  return runProcess("npm", args, env, ROOT);
}

beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  dir = await mkdtemp(join(tmpdir(), "kubelogin-npm-package-"));
  // --ignore-scripts: the suite runs on the build `npm test` just made; prepack would rebuild it under the other tests.
  const pack = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dir]);
  expect(pack.code, pack.stderr).toBe(0);
  const [{ filename }] = JSON.parse(pack.stdout) as [{ filename: string }];
  const install = await npm(["install", "-g", "--prefix", join(dir, "prefix"), "--offline", "--no-audit", "--no-fund", join(dir, filename)]);
  expect(install.code, install.stderr).toBe(0);
  prefixBin = join(dir, "prefix", "bin");
}, 180_000);
afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("the installed bin is the package's entry and prints --version with the packed version", async () => {
  expect(await readlink(join(prefixBin, "kubelogin"))).toBe("../lib/node_modules/kubelogin/dist/main.js");
  const { version } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
  const result = await runProcess(join(prefixBin, "kubelogin"), ["--version"], { PATH: process.env.PATH ?? "" });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(new RegExp(`^kubelogin version \\ngit hash: v${version.replaceAll(".", "\\.")}/[0-9a-f]{40}(-dirty)?\\n`));
  expect(result.stdout).not.toContain("unknown");
});

test.each(KUBECTL_VERSIONS)("kubectl %s lists nodes through the installed kubelogin (spn; the second call from the cache)", async (version) => {
  const cacheDir = join(stack.home, `npm-package-cache-${version}`);
  const kubeconfig = await stack.writeKubeconfig(`npm-package-${version}`, {
    args: [
      "get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", stack.secretApp.clientId, "--tenant-id", stack.tenantId,
      "--environment", "AzurePublicCloud", "--authority-host", stack.entra.url, "--cache-dir", cacheDir,
    ],
    env: [{ name: "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", value: stack.secretApp.secret }],
  });
  // The kubeconfig says `command: kubelogin`: only the installed one is on this PATH.
  const env = { PATH: `${prefixBin}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  const before = stack.entra.tokenRequests().length;

  const first = await stack.kubectl(version, ["--kubeconfig", kubeconfig, "get", "nodes"], { env });
  expect(first.stderr).toBe("");
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);

  const second = await stack.kubectl(version, ["--kubeconfig", kubeconfig, "get", "nodes"], { env });
  expect(second.stderr).toBe("");
  expect(second.code).toBe(0);
  expect(stack.entra.tokenRequests().length - before).toBe(1);
});
