// Whom the cache trusts (src/cache/trust.ts), through the built binary. Root passes every
// permission check, so the shared-dir case is played by two real uids with setpriv: an "attacker"
// who owns files in a 1777 KUBECACHEDIR, and a "victim" who runs get-token there. Without root and
// setpriv that case is skipped with a visible reason, except in CI, where that is an error. The
// FIFO and /dev/zero cases need no other user: a call meeting one must finish and get a token.
import { execFile, execFileSync } from "node:child_process";
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { KUBELOGIN_BIN, SERVER_ID, startLocalStack, type LocalStack, type ProcessResult } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

const ATTACKER = { uid: 10001, gid: 10001 };
const VICTIM = { uid: 10002, gid: 10002 };

function findSetpriv(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v setpriv"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const setpriv = process.getuid?.() === 0 ? findSetpriv() : undefined;
if (!setpriv && process.env.CI) throw new Error("these tests need root and setpriv in CI");
const why = setpriv ? "" : " (skipped: needs root and setpriv to act as two users)";

/** Runs with a deadline of its own: a call that hangs on a FIFO is killed and reported, not waited for. */
function run(file: string, args: readonly string[], env: Record<string, string>, timeoutMs = 30_000): Promise<ProcessResult & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(file, [...args], { env, timeout: timeoutMs, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString(), ms: Date.now() - started });
    });
  });
}

const tokenOf = (stdout: string): string => (JSON.parse(stdout) as { status: { token: string } }).status.token;

describe(`a cache dir another user can write${why}`, () => {
  let root: string;
  let installed: { node: string; bin: string; path: string };
  beforeAll(async () => {
    if (!setpriv) return;
    root = await mkdtemp(join(tmpdir(), "kubelogin-trust-"));
    await chmod(root, 0o755);
    // The victim may not reach the checkout nor the node it runs on: both are copied where everyone can read them.
    const dir = join(root, "installed");
    await cp(dirname(KUBELOGIN_BIN), join(dir, "dist"), { recursive: true });
    await copyFile(process.execPath, join(dir, "node"));
    // A fake az that says it ran and hands out a token of its own.
    await mkdir(join(dir, "bin"));
    await writeFile(
      join(dir, "bin", "az"),
      `#!/bin/sh\necho ran >> "$HOME/az-ran"\nprintf '{"accessToken":"token-from-az","expires_on":%s,"tokenType":"Bearer"}\\n' "$(($(date +%s) + 3600))"\n`,
    );
    execFileSync("chmod", ["-R", "a+rX", dir]);
    await chmod(join(dir, "bin", "az"), 0o755);
    installed = { node: join(dir, "node"), bin: join(dir, "dist", basename(KUBELOGIN_BIN)), path: `${join(dir, "bin")}:/usr/bin:/bin` };
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  const asVictim = (home: string, cacheDir: string, extra: readonly string[] = []) =>
    run(
      setpriv!,
      [`--reuid=${VICTIM.uid}`, `--regid=${VICTIM.gid}`, "--clear-groups", installed.node, installed.bin, "get-token", "--login", "azurecli", "--server-id", SERVER_ID, ...extra],
      { PATH: installed.path, HOME: home, KUBECACHEDIR: cacheDir },
    );

  test.skipIf(!setpriv)("an index and entry planted by another uid in a 1777 KUBECACHEDIR are not served: az runs, the plant is neither used nor written through", async () => {
    const home = join(root, "victim-home");
    await mkdir(home);
    await chown(home, VICTIM.uid, VICTIM.gid);
    await chmod(home, 0o700);
    // The attacker's plant is the victim's own index and entry for this exact command line (the
    // index's name holds no secret), made by a run of the victim's, with another token put in.
    const shared = join(root, "shared");
    await mkdir(shared);
    await chown(shared, VICTIM.uid, VICTIM.gid);
    const made = await asVictim(home, shared);
    expect(made.code, made.stderr).toBe(0);
    const names = await readdir(shared);
    const index = names.find((name) => /^fast-[0-9a-f]{32}\.json$/.test(name))!;
    const entry = names.find((name) => /^token-[0-9a-f]{40}\.json$/.test(name))!;
    expect([index, entry].every(Boolean)).toBe(true);
    const planted = (await readFile(join(shared, entry), "utf8")).replace("token-from-az", "planted-token");
    await writeFile(join(shared, entry), planted);
    // Now a shared dir, as /tmp or a CI agent's is, with the files the attacker's.
    await chown(shared, 0, 0);
    await chmod(shared, 0o1777);
    for (const name of [index, entry]) {
      await chown(join(shared, name), ATTACKER.uid, ATTACKER.gid);
      await chmod(join(shared, name), 0o644);
    }
    await unlink(join(home, "az-ran"));
    const indexBefore = await readFile(join(shared, index), "utf8");
    // On Node 22+ the setup run left its compile cache dir there too: now in a shared dir, it must stay unused.
    const listing = async (): Promise<string[]> => (await readdir(shared, { recursive: true })).sort();
    const before = await listing();

    const call = await asVictim(home, shared);
    expect(call.code, call.stderr).toBe(0);
    expect(tokenOf(call.stdout)).toBe("token-from-az");
    expect(await readFile(join(home, "az-ran"), "utf8")).toBe("ran\n");
    // Nothing written there: the plant is as it was, and nothing new appeared (no entry, index, lock or compiled code).
    expect(await readFile(join(shared, entry), "utf8")).toBe(planted);
    expect(await readFile(join(shared, index), "utf8")).toBe(indexBefore);
    expect(await listing()).toEqual(before);

    // -v 1 says why, once, naming the dir.
    const verbose = await asVictim(home, shared, ["-v", "1"]);
    expect(tokenOf(verbose.stdout)).toBe("token-from-az");
    const refusals = verbose.stderr.split("\n").filter((line) => line.includes("not using"));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain(`not using ${shared} from the cache: it belongs to uid 0, not to this user (uid ${VICTIM.uid})`);
  });
});

describe("a FIFO or a link to /dev/zero where an entry was", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  });
  afterAll(async () => {
    await stack.close();
  });

  const getToken = (cacheDir: string) =>
    run(
      process.execPath,
      [
        KUBELOGIN_BIN, "get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", stack.secretApp.clientId, "--tenant-id", stack.tenantId,
        "--authority-host", stack.entra.url, "--cache-dir", cacheDir, "--timeout", "10s",
      ],
      stack.env({ AZURE_CLIENT_SECRET: stack.secretApp.secret }),
      20_000,
    );

  const cases = [
    { what: "a FIFO", plant: (path: string) => execFileSync("mkfifo", [path]) },
    { what: "a symlink to /dev/zero", plant: (path: string) => symlink("/dev/zero", path) },
  ];
  let counter = 0;
  for (const { what, plant } of cases) {
    for (const path of ["fast path", "full CLI"] as const) {
      test(`${what}, met by the ${path}, is set aside and the call gets a new token within --timeout`, async () => {
        const cacheDir = join(stack.home, `trust-cache-${++counter}`);
        const first = await getToken(cacheDir);
        expect(first.code, first.stderr).toBe(0);
        const names = await readdir(cacheDir);
        const entry = names.find((name) => /^token-[0-9a-f]{40}\.json$/.test(name))!;
        // Without its index, the call goes straight to the full CLI.
        if (path === "full CLI") for (const name of names.filter((n) => n.startsWith("fast-"))) await unlink(join(cacheDir, name));
        await unlink(join(cacheDir, entry));
        await plant(join(cacheDir, entry));
        const requests = stack.entra.tokenRequests().length;

        const call = await getToken(cacheDir);
        expect(call.code, `${call.stderr} (after ${call.ms} ms)`).toBe(0);
        expect(tokenOf(call.stdout)).not.toBe("");
        expect(stack.entra.tokenRequests().length).toBe(requests + 1);
        expect(call.stderr).toContain("a cache entry was unreadable; set aside as");
        expect((await stat(join(cacheDir, entry))).isFile()).toBe(true);
      });
    }
  }
});

const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

describe(`the compiled-code cache (Node 22 and later)${NODE_MAJOR >= 22 ? "" : " (skipped: Node 20 has no compile cache)"}`, () => {
  const compiledFiles = async (cacheDir: string): Promise<string[]> =>
    (await readdir(join(cacheDir, "node-compile-cache"), { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((e) => e.name);
  // Anything but a get-token loads the full CLI, which turns the compile cache on.
  const runFullCli = (cacheDir: string) => run(process.execPath, [KUBELOGIN_BIN, "--version"], { PATH: process.env.PATH ?? "/usr/bin:/bin", KUBECACHEDIR: cacheDir });

  test.skipIf(NODE_MAJOR < 22)("is used in the user's own private cache dir, and not where another user could have put compiled code", async () => {
    const root = await mkdtemp(join(tmpdir(), "kubelogin-compile-cache-"));
    try {
      const own = join(root, "own");
      expect((await runFullCli(own)).code).toBe(0);
      expect(await compiledFiles(own)).not.toEqual([]);

      // A cache dir others may write: its compile cache could be anyone's.
      const shared = join(root, "shared");
      await mkdir(join(shared, "node-compile-cache"), { recursive: true, mode: 0o700 });
      await chmod(shared, 0o1777);
      expect((await runFullCli(shared)).code).toBe(0);
      expect(await compiledFiles(shared)).toEqual([]);

      // A compile cache dir of another user's in the user's own cache dir (root alone can make one here).
      if (process.getuid?.() === 0) {
        const planted = join(root, "planted");
        await mkdir(join(planted, "node-compile-cache"), { recursive: true, mode: 0o700 });
        await chown(join(planted, "node-compile-cache"), ATTACKER.uid, ATTACKER.gid);
        expect((await runFullCli(planted)).code).toBe(0);
        expect(await compiledFiles(planted)).toEqual([]);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
