// npm run bench:keychain: a cached `kubelogin get-token` for a signed-in user with the keychain
// backend active against the same with the file backend, interleaved in one run against a real
// Secret Service (gnome-keyring on a private D-Bus session, as the keychain tests use). A cache hit
// reads only the access-token file, so the two should be within noise (the issue asks for 5%).
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki } from "../test/support/pki.js";
import { KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack } from "../test/support/local-stack.js";
import { keyringHome, removeKeyringHome, startSecretService } from "../test/support/secret-service.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 3;
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const USER = { username: "bench@contoso.example", password: "Bench-Passw0rd" };

const pkiDir = await mkdtemp(join(tmpdir(), "kubelogin-bench-pki-"));
const stack = await startLocalStack(await createTestPki(pkiDir));
const home = await keyringHome();
const keyring = await startSecretService(home, { unlocked: true });
try {
  stack.entra.users.addPublicClient(CLIENT);
  stack.entra.users.addUser(USER);
  const env = { ...stack.env(keyring.env) };
  const getToken = (backend: string): string[] => [
    KUBELOGIN_BIN, "get-token", "-l", "ropc", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", stack.tenantId,
    "--authority-host", stack.entra.url, "--cache-dir", join(stack.home, `bench-${backend}`), "--cache-backend", backend,
    "--username", USER.username, "--password", USER.password,
  ];
  const run = (args: string[]): number => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
    return elapsed;
  };
  // Sign in once per backend (the only runs that talk to the fake Entra ID, which lives in this
  // process: so not through spawnSync, which would block it).
  for (const backend of ["keychain", "file"]) {
    const fill = await runProcess(process.execPath, getToken(backend), env);
    if (fill.code !== 0) throw new Error(`could not sign in with the ${backend} backend: ${fill.stderr}`);
  }
  const requestsAfterFill = stack.entra.requests.length;

  const keychain: number[] = [];
  const file: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const k = run(getToken("keychain"));
    const f = run(getToken("file"));
    if (i >= WARMUP) {
      keychain.push(k);
      file.push(f);
    }
  }
  if (stack.entra.requests.length !== requestsAfterFill) throw new Error("the cached runs talked to the identity provider");
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(`${RUNS} runs each (after ${WARMUP} warm-up), interleaved, ${process.version}\n`);
  process.stdout.write(`cached get-token, file backend      median ${median(file).toFixed(1).padStart(6)} ms\n`);
  process.stdout.write(`cached get-token, keychain backend  median ${median(keychain).toFixed(1).padStart(6)} ms\n`);
  process.stdout.write(`ratio (median) ${(median(keychain) / median(file)).toFixed(3)}\n`);
} finally {
  await keyring.stop();
  await stack.close();
  await removeKeyringHome(home);
  await rm(pkiDir, { recursive: true, force: true });
}
