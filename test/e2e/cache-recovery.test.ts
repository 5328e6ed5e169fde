// A corrupt cache is set aside and rebuilt; a lock left by a crashed kubelogin is broken; an
// unusable cache dir does not stop kubectl. The built binary runs each case.
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../support/local-stack.js";
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

  const started = Date.now();
  const result = await getToken(cacheDir);
  expect(result.code, result.stderr).toBe(0);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect((await readdir(cacheDir)).filter((f) => f.endsWith(".lock"))).toEqual([]);
});

test("an unwritable cache dir does not stop get-token", async () => {
  const parent = join(stack.home, "readonly");
  await mkdir(parent, { recursive: true });
  await chmod(parent, 0o500);
  try {
    const result = await getToken(join(parent, "cache"));
    // root ignores permission bits; either way get-token must succeed.
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: "ExecCredential" });
  } finally {
    await chmod(parent, 0o700);
  }
});

test("a cache dir that is a regular file does not stop get-token", async () => {
  const file = join(stack.home, "not-a-dir");
  await writeFile(file, "x");
  const result = await getToken(file);
  expect(result.code, result.stderr).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ kind: "ExecCredential" });
});
