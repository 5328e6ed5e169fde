// The keychain backend against a real Secret Service (gnome-keyring on a private D-Bus session):
// our built kubelogin → fake Entra ID; what it stored is read back with secret-tool.
import { mkdir, readdir, readFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadTestPki } from "../support/pki.js";
import { ARC_CLUSTER_ID, KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack, type LocalStack, type ProcessResult } from "../support/local-stack.js";
import { keyringHome, removeKeyringHome, secretServiceAvailability, startSecretService, type SecretService } from "../support/secret-service.js";

const availability = secretServiceAvailability();
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ALICE = { username: "alice@contoso.example", password: "Corr3ct-Horse!" };
const USERS = [1, 2, 3, 4, 5, 6].map((n) => ({ username: `user${n}@contoso.example`, password: `Pass-${n}-word` }));
const BLOB = "msal-user-cache.json";

let stack: LocalStack;
let home: string;
let cacheCounter = 0;
beforeAll(async () => {
  if (!availability.run) return;
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  stack.entra.users.addPublicClient(CLIENT);
  for (const user of [ALICE, ...USERS]) stack.entra.users.addUser(user);
  home = await keyringHome();
});
afterAll(async () => {
  if (!availability.run) return;
  await stack.close();
  await removeKeyringHome(home);
});

async function newCacheDir(): Promise<{ dir: string; service: string }> {
  const dir = join(stack.home, `keychain-cache-${++cacheCounter}`);
  await mkdir(dir, { recursive: true });
  return { dir, service: `kubelogin ${await realpath(dir)}` };
}

const userArgs = (mode: string, cacheDir: string, extra: readonly string[] = []): string[] => [
  "get-token", "--login", mode, "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", stack.tenantId,
  "--authority-host", stack.entra.url, "--cache-dir", cacheDir, ...extra,
];
const ropc = (user: { username: string; password: string }, cacheDir: string, extra: readonly string[] = []): string[] =>
  userArgs("ropc", cacheDir, ["--username", user.username, "--password", user.password, ...extra]);

/** The built kubelogin with the default cache backend (the stack's env pins `file` for the other suites) unless `env` sets one. */
function kubelogin(args: readonly string[], env: Record<string, string>): Promise<ProcessResult> {
  return runProcess(process.execPath, [KUBELOGIN_BIN, ...args], kubeloginEnv(env));
}

function kubeloginEnv(env: Record<string, string>): Record<string, string> {
  const { KUBELOGIN_CACHE_BACKEND: _pinned, ...rest } = stack.env();
  return { ...rest, ...env };
}

const RECORDER = fileURLToPath(new URL("../support/record-loads.mjs", import.meta.url));

/** The refresh-token secrets in an MSAL blob. */
function refreshTokens(blob: string): string[] {
  const parsed = JSON.parse(blob) as { RefreshToken?: Record<string, { secret: string }> };
  return Object.values(parsed.RefreshToken ?? {}).map((entry) => entry.secret);
}

async function filesContaining(dir: string, needles: readonly string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const name of await readdir(dir)) {
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    if (needles.some((needle) => text.includes(needle)) || text.includes("RefreshToken")) hits.push(name);
  }
  return hits;
}

const warnings = (stderr: string): string[] => stderr.split("\n").filter((line) => /^W\d{4} /.test(line));

describe.skipIf(!availability.run)(`keychain backend with a real Secret Service ${availability.skipReason}`, () => {
  describe("unlocked keyring", () => {
    let keyring: SecretService;
    beforeAll(async () => {
      keyring = await startSecretService(home, { unlocked: true });
    });
    afterAll(async () => {
      await keyring.stop();
    });

    test("a device-code sign-in keeps its refresh token in the keychain, in no file; a refresh reads it back silently", async () => {
      const { dir, service } = await newCacheDir();
      stack.entra.users.deviceCode = { user: ALICE.username, slowDownPolls: 0, pendingPolls: 0, outcome: "approve", interval: 1 };
      // 302 s is under the 5 minutes kubelogin wants left a few seconds later: the next call must refresh.
      stack.entra.users.tokenLifetimeSeconds = 302;
      const first = await kubelogin(userArgs("devicecode", dir), keyring.env);
      expect(first.code, first.stderr).toBe(0);
      expect(warnings(first.stderr)).toEqual([]);

      const blob = await keyring.entry(service, BLOB);
      expect(blob).not.toBeNull();
      const secrets = refreshTokens(blob!);
      expect(secrets).toHaveLength(1);
      expect(await filesContaining(dir, secrets)).toEqual([]);

      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const refreshes = stack.entra.grantCount("refresh_token");
      const prompts = stack.entra.users.messages.length;
      const again = await kubelogin(userArgs("devicecode", dir, ["-v", "1"]), keyring.env);
      expect(again.code, again.stderr).toBe(0);
      expect(stack.entra.grantCount("refresh_token") - refreshes).toBe(1);
      expect(stack.entra.users.messages.length).toBe(prompts);
      expect(again.stderr).toContain("long-lived cache entries: the OS keychain (auto: it holds our items)");
      expect(warnings(again.stderr)).toEqual([]);
      expect(await filesContaining(dir, refreshTokens((await keyring.entry(service, BLOB))!))).toEqual([]);
      stack.entra.users.tokenLifetimeSeconds = 3600;
    });

    test("-v 1 names the backend and why on a cached call too", async () => {
      const { dir } = await newCacheDir();
      expect((await kubelogin(ropc(ALICE, dir), keyring.env)).code).toBe(0);
      const cached = await kubelogin(ropc(ALICE, dir, ["-v", "1"]), keyring.env);
      expect(cached.code, cached.stderr).toBe(0);
      expect(cached.stderr).toContain("cache backend: auto; access tokens in 0600 files in");
      expect(cached.stderr).toContain("long-lived entries in the OS keychain (auto: at the last sign-in or refresh it accepted a write)");
    });

    test("a cached get-token with the keychain active loads no keytar", async () => {
      const { dir, service } = await newCacheDir();
      expect((await kubelogin(ropc(ALICE, dir), keyring.env)).code).toBe(0);
      expect(await keyring.accounts(service)).toContain(BLOB);
      const log = join(dir, "..", `loads-${cacheCounter}.txt`);
      const hit = await runProcess(process.execPath, ["--import", RECORDER, KUBELOGIN_BIN, ...ropc(ALICE, dir)], {
        ...kubeloginEnv(keyring.env),
        KUBELOGIN_LOAD_LOG: log,
      });
      expect(hit.code, hit.stderr).toBe(0);
      const loaded = (await readFile(log, "utf8")).split("\n").filter(Boolean);
      // Served by the bundled fast path: the cold bundle, keytar and MSAL never load.
      expect(loaded.some((url) => url.endsWith("/dist/main.js"))).toBe(true);
      expect(loaded.some((url) => url.endsWith("/dist/cold/full-cli.js"))).toBe(false);
      expect(loaded.filter((url) => url.includes("/node_modules/keytar/") || url.includes("/@azure/msal-node/"))).toEqual([]);
    });

    test("the PoP key lives in the keychain, not in the cache dir, and later calls reuse it", async () => {
      const { dir, service } = await newCacheDir();
      const pop = ["--pop-enabled", "--pop-claims", `u=${ARC_CLUSTER_ID}`];
      const first = await kubelogin(ropc(ALICE, dir, pop), keyring.env);
      expect(first.code, first.stderr).toBe(0);
      expect(await keyring.accounts(service)).toContain("pop_rsa_key.cache");
      expect(await readdir(dir)).not.toContain("pop_rsa_key.cache");
      const kid = (token: string): string => (JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as { kid: string }).kid;
      const second = await kubelogin(ropc(ALICE, dir, pop), keyring.env);
      expect(second.code, second.stderr).toBe(0);
      const tokenOf = (result: ProcessResult): string => (JSON.parse(result.stdout) as { status: { token: string } }).status.token;
      expect(kid(tokenOf(second))).toBe(kid(tokenOf(first)));
    });

    test("concurrent sign-ins of different users all keep their refresh tokens", async () => {
      const { dir, service } = await newCacheDir();
      const results = await Promise.all(USERS.map((user) => kubelogin(ropc(user, dir), keyring.env)));
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      const blob = await keyring.entry(service, BLOB);
      const accounts = Object.values((JSON.parse(blob!) as { Account: Record<string, { username: string }> }).Account).map((a) => a.username);
      expect(accounts.sort()).toEqual(USERS.map((user) => user.username).sort());
      expect(refreshTokens(blob!)).toHaveLength(USERS.length);
      // Six accounts outgrow one item (Windows keeps 2560 bytes per item): the blob is split, and read back whole.
      expect((await keyring.accounts(service)).filter((account) => account.startsWith(`${BLOB}#`)).length).toBeGreaterThan(0);
      expect(await filesContaining(dir, refreshTokens(blob!))).toEqual([]);
    });

    test("a blob left in a file by the file backend moves into the keychain at the next write", async () => {
      const { dir, service } = await newCacheDir();
      expect((await kubelogin(ropc(ALICE, dir, ["--cache-backend", "file"]), keyring.env)).code).toBe(0);
      expect(await readdir(dir)).toContain(BLOB);
      const user = USERS[0]!;
      const moved = await kubelogin(ropc(user, dir), keyring.env);
      expect(moved.code, moved.stderr).toBe(0);
      expect(await readdir(dir)).not.toContain(BLOB);
      const blob = (await keyring.entry(service, BLOB))!;
      expect(refreshTokens(blob)).toHaveLength(2);
    });

    test("remove-cache-dir removes the cache dir's keychain items and says so at -v 1", async () => {
      const { dir, service } = await newCacheDir();
      expect((await kubelogin(ropc(ALICE, dir), keyring.env)).code).toBe(0);
      expect(await keyring.accounts(service)).toContain(BLOB);
      const removed = await kubelogin(["remove-cache-dir", "--cache-dir", dir, "-v", "1"], keyring.env);
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stderr).toMatch(/removed [1-9]\d* item\(s\) of keychain service "kubelogin /);
      expect(await keyring.accounts(service)).toEqual([]);
    });
  });

  describe("locked keyring (a headless server after a reboot)", () => {
    let keyring: SecretService;
    beforeAll(async () => {
      // The first unlocked session creates the login keyring; this one starts with it locked.
      await (await startSecretService(home, { unlocked: true })).stop();
      keyring = await startSecretService(home, { unlocked: false });
    });
    afterAll(async () => {
      await keyring.stop();
    });

    test("auto: the sign-in works from files, with one warning line the first time for the cache dir", async () => {
      const { dir } = await newCacheDir();
      const first = await kubelogin(ropc(ALICE, dir), keyring.env);
      expect(first.code, first.stderr).toBe(0);
      expect(warnings(first.stderr)).toHaveLength(1);
      expect(first.stderr).toContain("the OS keychain is not available");
      expect(await readdir(dir)).toContain(BLOB);

      // Another user needs the long-lived store again: no second warning, -v 1 still says why.
      const second = await kubelogin(ropc(USERS[1]!, dir, ["-v", "1"]), keyring.env);
      expect(second.code, second.stderr).toBe(0);
      expect(warnings(second.stderr)).toEqual([]);
      expect(second.stderr).toContain("long-lived cache entries: files in");
      expect(second.stderr).toContain("auto: the OS keychain is not available");
    });

    test("an explicit keychain request fails with a clear error", async () => {
      const { dir } = await newCacheDir();
      const result = await kubelogin(ropc(ALICE, dir, ["--cache-backend", "keychain"]), keyring.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("the OS keychain is not available");
      expect(result.stderr).toContain("hint: flag --cache-backend asked for the keychain backend");
    });

    test("an explicit keychain request fails before a device code is shown, not after the user signed in", async () => {
      const { dir } = await newCacheDir();
      stack.entra.users.deviceCode = { user: ALICE.username, slowDownPolls: 0, pendingPolls: 0, outcome: "approve", interval: 1 };
      const deviceCodes = stack.entra.users.messages.length;
      const tokens = stack.entra.tokenRequests().length;
      const result = await kubelogin(userArgs("devicecode", dir, ["--cache-backend", "keychain"]), keyring.env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/^Error: the OS keychain is not available: /m);
      expect(result.stderr).toContain("hint: flag --cache-backend asked for the keychain backend");
      expect(result.stderr).not.toContain("enter the code");
      expect(stack.entra.users.messages.length).toBe(deviceCodes);
      expect(stack.entra.tokenRequests().length).toBe(tokens);
    });
  });

  describe("a Secret Service that stops during the sign-in", () => {
    test("the token is printed all the same, with a warning that the sign-in was not saved", async () => {
      const { dir, service } = await newCacheDir();
      let keyring: SecretService | undefined = await startSecretService(home, { unlocked: true });
      try {
        // Three pending polls a second apart: time to stop the keyring between the prompt and the answer.
        stack.entra.users.deviceCode = { user: ALICE.username, slowDownPolls: 0, pendingPolls: 3, outcome: "approve", interval: 1 };
        const deviceCodes = stack.entra.users.messages.length;
        // Only the bus address: stop() ends every process that has the session's XDG_RUNTIME_DIR.
        const running = kubelogin(userArgs("devicecode", dir, ["--cache-backend", "keychain"]), { DBUS_SESSION_BUS_ADDRESS: keyring.env.DBUS_SESSION_BUS_ADDRESS! });
        while (stack.entra.users.messages.length === deviceCodes) await new Promise((resolve) => setTimeout(resolve, 50));
        await keyring.stop();
        keyring = undefined;
        const result = await running;
        expect(result.code, result.stderr).toBe(0);
        expect((JSON.parse(result.stdout) as { status: { token: string } }).status.token).toBe(stack.entra.issuedTokens.at(-1));
        expect(warnings(result.stderr)).toEqual([expect.stringContaining(`the sign-in was not saved in ${dir} (could not read the OS keychain (service "${service}"): `)]);
        expect(warnings(result.stderr)[0]).toContain("the next call may have to sign in again");
      } finally {
        await keyring?.stop();
      }
    });
  });

  describe("no Secret Service (a container: no D-Bus session)", () => {
    test("auto: files, one warning line once; -v 1 says which backend and why on every call", async () => {
      const { dir } = await newCacheDir();
      const first = await kubelogin(ropc(ALICE, dir), {});
      expect(first.code, first.stderr).toBe(0);
      expect(warnings(first.stderr)).toEqual([expect.stringContaining("the OS keychain is not available (no D-Bus session")]);
      const second = await kubelogin(ropc(USERS[2]!, dir, ["-v", "1"]), {});
      expect(second.code, second.stderr).toBe(0);
      expect(warnings(second.stderr)).toEqual([]);
      expect(second.stderr).toContain("long-lived cache entries: files in");
      const cached = await kubelogin(ropc(USERS[2]!, dir, ["-v", "1"]), {});
      expect(cached.stderr).toContain("long-lived entries in 0600 files (auto: at the last sign-in or refresh the OS keychain was not available: no D-Bus session");
    });

    test("KUBELOGIN_CACHE_BACKEND=keychain fails with a clear error naming the variable", async () => {
      const { dir } = await newCacheDir();
      const result = await kubelogin(ropc(ALICE, dir), { KUBELOGIN_CACHE_BACKEND: "keychain" });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("the OS keychain is not available: no D-Bus session");
      expect(result.stderr).toContain("hint: env KUBELOGIN_CACHE_BACKEND asked for the keychain backend");
    });

    test("KUBELOGIN_CACHE_BACKEND=file: no warning; -v 1 says who chose it", async () => {
      const { dir } = await newCacheDir();
      const result = await kubelogin(ropc(ALICE, dir), { KUBELOGIN_CACHE_BACKEND: "file" });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe("");
      const cached = await kubelogin(ropc(ALICE, dir, ["-v", "1"]), { KUBELOGIN_CACHE_BACKEND: "file" });
      expect(cached.stderr).toContain("long-lived entries in 0600 files (env KUBELOGIN_CACHE_BACKEND chose the file backend)");
    });

    test("an unknown backend is a usage error naming where it came from", async () => {
      const { dir } = await newCacheDir();
      const result = await kubelogin(ropc(ALICE, dir, ["--cache-backend", "vault"]), {});
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Error: cache backend "vault" is not one of auto, file, keychain');
      expect(result.stderr).toContain("hint: the value came from flag --cache-backend");
    });
  });
});
