// A corrupt cache is set aside and rebuilt; a lock left by a crashed kubelogin is broken; an
// unusable cache dir does not stop kubectl. The built binary runs each case.
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
});
afterAll(async () => {
  await stack.close();
});

function getToken(cacheDir: string) {
  return stack.kubelogin(
    ["get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", stack.secretApp.clientId, "--tenant-id", stack.tenantId, "--authority-host", stack.entra.url, "--cache-dir", cacheDir],
    { env: { AZURE_CLIENT_SECRET: stack.secretApp.secret } },
  );
}

async function tokenEntry(cacheDir: string): Promise<string> {
  const name = (await readdir(cacheDir)).find((f) => /^token-[0-9a-f]+\.json$/.test(f));
  if (!name) throw new Error(`no token entry in ${cacheDir}`);
  return join(cacheDir, name);
}

test("a corrupt token entry is set aside, reported on stderr, and rebuilt", async () => {
  const cacheDir = join(stack.home, "corrupt");
  expect((await getToken(cacheDir)).code).toBe(0);
  const entry = await tokenEntry(cacheDir);
  await writeFile(entry, '{"accessToken": trunc');

  const result = await getToken(cacheDir);
  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/unreadable; set aside as .*\.corrupt-/);
  expect((await readdir(cacheDir)).some((f) => f.includes(".corrupt-"))).toBe(true);
  const rebuilt = JSON.parse(await readFile(entry, "utf8")) as { accessToken: string };
  expect(rebuilt.accessToken).toBe(stack.entra.issuedTokens.at(-1));
});

test("a lock left by a crashed kubelogin (dead pid) is broken instead of stalling", async () => {
  const cacheDir = join(stack.home, "stale-lock");
  expect((await getToken(cacheDir)).code).toBe(0);
  const entry = await tokenEntry(cacheDir);
  await writeFile(entry, "{}"); // force a miss, so the lock is needed
  const dead = await runProcess(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {});
  const { hostname } = await import("node:os");
  await writeFile(`${entry}.lock`, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), since: Date.now() }));

  // No wall-clock bound on a cold process. Waiting out a live holder would end in a lock timeout
  // (exit 1); success with the entry rewritten means this call took the lock.
  const result = await getToken(cacheDir);
  expect(result.code, result.stderr).toBe(0);
  expect((await readdir(cacheDir)).filter((f) => f.endsWith(".lock"))).toEqual([]);
  const rewritten = JSON.parse(await readFile(entry, "utf8")) as { accessToken: string };
  expect(rewritten.accessToken).toBe(stack.entra.issuedTokens.at(-1));
});

test("an unwritable cache dir does not stop get-token, and nothing is cached", async () => {
  // Below a regular file, so unwritable for root too (CI runs as root, which ignores 0500).
  const file = join(stack.home, "plain-file");
  await writeFile(file, "x");
  const cacheDir = join(file, "cache");
  const before = stack.entra.tokenRequests().length;
  for (const call of [1, 2]) {
    const result = await getToken(cacheDir);
    expect(result.code, `call ${call}: ${result.stderr}`).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: "ExecCredential", status: { token: stack.entra.issuedTokens.at(-1) } });
  }
  // Each call went to the identity provider: there was no cache to serve the second.
  expect(stack.entra.tokenRequests().length - before).toBe(2);
  expect(await readFile(file, "utf8")).toBe("x");
});

test("a cache dir that is a regular file does not stop get-token", async () => {
  const file = join(stack.home, "not-a-dir");
  await writeFile(file, "x");
  const result = await getToken(file);
  expect(result.code, result.stderr).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ kind: "ExecCredential" });
});

test("an empty --cache-dir is named as such, and nothing is cached in the working directory", async () => {
  const cwd = join(stack.home, "empty-cache-dir-cwd");
  await mkdir(cwd);
  const args = ["get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", stack.secretApp.clientId, "--tenant-id", stack.tenantId, "--authority-host", stack.entra.url];
  const env = stack.env({ AZURE_CLIENT_SECRET: stack.secretApp.secret });
  const before = stack.entra.tokenRequests().length;
  for (const call of [1, 2]) {
    const result = await runProcess(process.execPath, [KUBELOGIN_BIN, ...args, "--cache-dir", "", "--pop-enabled", "--pop-claims", "u=/x"], env, cwd);
    expect(result.code, `call ${call}: ${result.stderr}`).toBe(0);
    expect(result.stderr).toContain('Warning: failed to persist PoP key to secure storage: the cache directory is empty (--cache-dir "")\n');
    expect(result.stderr).not.toContain("directory :");
  }
  const plain = await runProcess(process.execPath, [KUBELOGIN_BIN, ...args, "--cache-dir=", "-v", "1"], env, cwd);
  expect(plain.code, plain.stderr).toBe(0);
  expect(plain.stderr).toContain('unusable (the cache directory is empty (--cache-dir ""))');
  expect(stack.entra.tokenRequests().length - before).toBe(3);
  expect(await readdir(cwd)).toEqual([]);
});
