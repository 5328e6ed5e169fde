// npm run bench: one table, medians over interleaved runs (machine noise hits each side alike),
// each row beside its yardstick and the ratio, on Node 20 (this process's) and on Node 24 (the
// one scripts/install-test-deps.sh puts in .cache/node24), each against its own `node -e 0`:
// - cached get-token (file backend): spn with a secret, spn with a PFX certificate, msi; spn with
//   the keychain backend (where a Secret Service can be started, as the keychain tests do); the
//   entry npm installs (npm pack, then npm install into a temp prefix); the single executable
//   (dist/kubelogin, built here by scripts/package.mjs); all against `node -e 0`;
// - cold spn get-token (an empty cache dir each run) against a bare MSAL script making the same
//   request to the same fake Entra ID (scripts/bench-bare-msal.mjs);
// - `kubectl get nodes` through the plugin (cached token) against the same kubectl with that
//   token written into the kubeconfig.
// Once, on the first runtime (they measure the machine more than the runtime):
// - 32 parallel cold get-tokens for one identity, and for 4 identities (8 each), with the
//   identity-provider requests they made, against 32 parallel bare MSAL scripts (32 requests).
// BENCH_RUNS sets the runs per row (default 30), BENCH_PARALLEL_RUNS those of the parallel rows
// (default 5), BENCH_NODES a `:`-separated list of node binaries.
import { execFile, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeImds } from "../test/fakes/fake-imds.js";
import { KUBECTL_VERSIONS, kubectlBinary } from "../test/support/kubectl.js";
import { createTestPki } from "../test/support/pki.js";
import { KUBELOGIN_BIN, runProcess, SERVER_ID, startLocalStack, type LocalStack } from "../test/support/local-stack.js";
import { keyringHome, removeKeyringHome, secretServiceAvailability, startSecretService, type SecretService } from "../test/support/secret-service.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const PARALLEL_RUNS = Number(process.env.BENCH_PARALLEL_RUNS ?? 5);
const WARMUP = 3;
const PARALLEL = 32;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NODE24 = join(ROOT, ".cache/node24/bin/node");
const EXECUTABLE = join(ROOT, "dist/kubelogin");
const BARE_MSAL = fileURLToPath(new URL("./bench-bare-msal.mjs", import.meta.url));
const KUBECTL = kubectlBinary(KUBECTL_VERSIONS.at(-1)!);
const nodes = process.env.BENCH_NODES?.split(":") ?? [process.execPath, ...(existsSync(NODE24) ? [NODE24] : [])];

/** One thing timed: a process (or several at once) that must exit 0. */
interface Command {
  readonly name: string;
  /** A fresh state before each run (an empty cache dir); not timed. */
  readonly before?: (() => Promise<void>) | undefined;
  /** `online`: run as if it talked to the fakes (the run that fills a cache does). */
  readonly exec: (node: string, online?: boolean) => Promise<void>;
}

interface Spawned {
  /** Default: the runtime under test. */
  readonly file?: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
}

/**
 * A process run to completion. `online`: it talks to the fakes in this process, so it is spawned
 * asynchronously (spawnSync would block them); the others run with spawnSync, which times tighter.
 */
function processCommand(name: string, spawned: Spawned | ((node: string) => Spawned), options: { online?: boolean; before?: () => Promise<void> } = {}): Command {
  return {
    name,
    before: options.before,
    async exec(node, online = options.online) {
      const { file = node, args, env } = typeof spawned === "function" ? spawned(node) : spawned;
      // stdout a pipe, as kubectl gives it (kubelogin refuses a /dev/null it cannot tell from a closed stdout).
      const { status, stderr } = online ? await spawnAsync(file, args, env) : spawnSync(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      if (status !== 0) throw new Error(`${name} failed on ${node}: ${String(stderr)}`);
    },
  };
}

/** Several processes started together; timed until the last one exits. */
function parallelCommand(name: string, spawned: readonly Spawned[], before: () => Promise<void>): Command {
  return {
    name,
    before,
    async exec(node) {
      await Promise.all(spawned.map((one, i) => processCommand(`${name} #${i}`, one, { online: true }).exec(node)));
    },
  };
}

/** Its median in ms, and the identity-provider requests its runs made (fewest, most). */
interface Measured {
  readonly ms: number;
  readonly requests: readonly [number, number];
}

const setup = await startSetup();
const { stack, imds } = setup;
const identityRequests = (): number => stack.entra.tokenRequests().length + imds.requests.length;
try {
  const cacheDir = join(stack.home, "bench-cache");
  const spn = ["get-token", "-l", "spn", "--server-id", SERVER_ID, "--tenant-id", stack.tenantId, "--authority-host", stack.entra.url];
  const secretEnv = stack.env({ AZURE_CLIENT_SECRET: stack.secretApp.secret });
  const spnSecret = [...spn, "--client-id", stack.secretApp.clientId, "--cache-dir", cacheDir];
  const bare = processCommand("node -e 0", { args: ["-e", "0"], env: stack.env() });

  const cachedFileBackend: Command[] = [
    processCommand("get-token cached, spn secret", { args: [KUBELOGIN_BIN, ...spnSecret], env: secretEnv }),
    processCommand("get-token cached, spn PFX", {
      args: [KUBELOGIN_BIN, ...spn, "--client-id", stack.certApp.clientId, "--cache-dir", cacheDir, "--client-certificate", stack.certApp.files.pfx],
      env: stack.env({ AZURE_CLIENT_CERTIFICATE_PASSWORD: stack.certApp.files.pfxPassword }),
    }),
    processCommand("get-token cached, msi", {
      args: [KUBELOGIN_BIN, "get-token", "-l", "msi", "--server-id", SERVER_ID, "--cache-dir", cacheDir],
      env: stack.env({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost }),
    }),
  ];
  const keychain = setup.keyring
    ? processCommand("get-token cached, spn secret, keychain backend", {
        args: [KUBELOGIN_BIN, ...spn, "--client-id", stack.secretApp.clientId, "--cache-dir", join(stack.home, "bench-keychain"), "--cache-backend", "keychain"],
        env: stack.env({ ...setup.keyring.env, AZURE_CLIENT_SECRET: stack.secretApp.secret }),
      })
    : undefined;
  const npmInstalled = processCommand("get-token cached, npm-installed entry", { args: [setup.npmInstalledMain, ...spnSecret], env: secretEnv });
  const executable = setup.executable.ok
    ? processCommand("get-token cached, single executable", { file: EXECUTABLE, args: spnSecret, env: secretEnv })
    : undefined;

  const coldDir = join(stack.home, "bench-cold");
  const cold = processCommand("get-token cold, spn secret", { args: [KUBELOGIN_BIN, ...spn, "--client-id", stack.secretApp.clientId, "--cache-dir", coldDir], env: secretEnv }, {
    online: true,
    before: () => rm(coldDir, { recursive: true, force: true }),
  });
  const bareMsalSpawned: Spawned = {
    args: [BARE_MSAL],
    env: stack.env({
      BENCH_AUTHORITY_HOST: stack.entra.url.endsWith("/") ? stack.entra.url : `${stack.entra.url}/`,
      BENCH_TENANT: stack.tenantId,
      BENCH_CLIENT_ID: stack.secretApp.clientId,
      BENCH_CLIENT_SECRET: stack.secretApp.secret,
      BENCH_SCOPE: `${SERVER_ID}/.default`,
    }),
  };
  const bareMsal = processCommand("bare MSAL client credentials", bareMsalSpawned, { online: true });

  // kubectl finds `kubelogin` (dist/main.js, `#!/usr/bin/env node`) and that node on PATH.
  const kubectlEnv = (node: string): Record<string, string> => stack.env({ PATH: `${stack.binDir}:${dirname(node)}:${process.env.PATH ?? "/usr/bin:/bin"}` });
  const pluginKubeconfig = await stack.writeKubeconfig("bench-plugin", {
    args: spnSecret,
    env: [{ name: "AZURE_CLIENT_SECRET", value: stack.secretApp.secret }],
  });
  const kubectlPlugin = processCommand("kubectl get nodes, plugin cached", (node) => ({ file: KUBECTL, args: ["--kubeconfig", pluginKubeconfig, "get", "nodes"], env: kubectlEnv(node) }), { online: true });
  let staticKubeconfig = "";
  const kubectlStatic = processCommand("kubectl get nodes, static token", (node) => ({ file: KUBECTL, args: ["--kubeconfig", staticKubeconfig, "get", "nodes"], env: kubectlEnv(node) }), { online: true });

  // Parallel cold calls: service principals of their own, so every run starts with nothing cached anywhere.
  const parallelDir = join(stack.home, "bench-parallel");
  const freshParallelDir = () => rm(parallelDir, { recursive: true, force: true });
  const identities = Array.from({ length: 4 }, () => {
    const app = { clientId: randomUUID(), secret: `bench-${randomUUID()}` };
    stack.entra.addApp(app);
    return app;
  });
  const parallelCall = (app: { clientId: string; secret: string }): Spawned => ({
    args: [KUBELOGIN_BIN, ...spn, "--client-id", app.clientId, "--cache-dir", parallelDir],
    env: stack.env({ AZURE_CLIENT_SECRET: app.secret }),
  });
  const parallelOne = parallelCommand(`${PARALLEL} parallel cold get-token, 1 identity`, Array.from({ length: PARALLEL }, () => parallelCall(identities[0]!)), freshParallelDir);
  const parallelFour = parallelCommand(
    `${PARALLEL} parallel cold get-token, 4 identities × ${PARALLEL / 4}`,
    Array.from({ length: PARALLEL }, (_, i) => parallelCall(identities[i % 4]!)),
    freshParallelDir,
  );
  const parallelBare = parallelCommand(`${PARALLEL} parallel bare MSAL scripts`, Array.from({ length: PARALLEL }, () => bareMsalSpawned), async () => undefined);

  /** Each command's median and request counts, run in turn `runs` times after `warmup` rounds. */
  const interleaved = async (node: string, commands: readonly Command[], runs = RUNS, warmup = WARMUP): Promise<Measured[]> => {
    process.stderr.write(`bench: ${commands.map((command) => command.name).join(", ")} on ${node}\n`);
    const samples = commands.map((): number[] => []);
    const requests = commands.map((): number[] => []);
    for (let i = 0; i < warmup + runs; i++) {
      for (const [c, command] of commands.entries()) {
        await command.before?.();
        const before = identityRequests();
        const started = process.hrtime.bigint();
        await command.exec(node);
        const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        if (i < warmup) continue;
        samples[c]!.push(elapsed);
        requests[c]!.push(identityRequests() - before);
      }
    }
    return samples.map((xs, c) => ({ ms: median(xs), requests: [Math.min(...requests[c]!), Math.max(...requests[c]!)] }));
  };

  const rows: string[][] = [];
  const row = (runtime: string, name: string, measured: Measured, yardstickName: string, yardstick: Measured): void => {
    const count = ({ requests: [low, high] }: Measured): string => (low === high ? String(low) : `${low}–${high}`);
    rows.push([runtime, name, measured.ms.toFixed(1), yardstickName, yardstick.ms.toFixed(1), (measured.ms / yardstick.ms).toFixed(2), `${count(measured)} / ${count(yardstick)}`]);
  };
  const missing = (runtime: string, name: string, why: string): void => void rows.push([runtime, name, "n/a", why, "", "", ""]);

  for (const [n, node] of nodes.entries()) {
    const runtime = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
    const once = n === 0;
    // Fill the caches (these runs talk to the fake identity providers).
    await rm(cacheDir, { recursive: true, force: true });
    await rm(join(stack.home, "bench-keychain"), { recursive: true, force: true });
    const cached = [...cachedFileBackend];
    for (const command of cachedFileBackend) await command.exec(node, true);
    // The keychain addon may not load on every runtime: say so in its row rather than stop.
    const keychainFailed = keychain && (await keychain.exec(node, true).then(() => undefined, (err: Error) => err.message.split("\n").find((l) => /^error:/i.test(l)) ?? err.message.split("\n")[0]));
    if (keychain && !keychainFailed) cached.push(keychain);
    cached.push(npmInstalled);
    // On every runtime: it embeds one Node (24 when scripts/install-test-deps.sh put it there), so
    // each group shows it beside that runtime's own node -e 0 and npm entry.
    if (executable) cached.push(executable);
    const requestsBefore = identityRequests();
    const [base, ...hits] = await interleaved(node, [bare, ...cached]);
    if (identityRequests() !== requestsBefore) throw new Error("a cached run talked to an identity provider");
    for (const [i, command] of cached.entries()) row(runtime, command.name, hits[i]!, bare.name, base!);
    if (!keychain) missing(runtime, "get-token cached, spn secret, keychain backend", `no Secret Service here: ${setup.keyringMissing}`);
    else if (keychainFailed) missing(runtime, keychain.name, `fails here: ${keychainFailed}`);
    if (once && !setup.executable.ok) missing(runtime, "get-token cached, single executable", `dist/kubelogin could not be built (npm run package): ${setup.executable.why}`);

    const [coldMs, bareMs] = await interleaved(node, [cold, bareMsal]);
    row(runtime, cold.name, coldMs!, bareMsal.name, bareMs!);

    // The static kubeconfig holds the very token the plugin's cache serves.
    const token = await runProcess(node, [KUBELOGIN_BIN, ...spnSecret], secretEnv);
    if (token.code !== 0) throw new Error(`get-token failed: ${token.stderr}`);
    staticKubeconfig = await writeStaticKubeconfig(stack, (JSON.parse(token.stdout) as { status: { token: string } }).status.token);
    const [plugin, staticToken] = await interleaved(node, [kubectlPlugin, kubectlStatic]);
    row(runtime, kubectlPlugin.name, plugin!, kubectlStatic.name, staticToken!);
  }

  // Last, and on the first runtime only: the slowest rows, and the ones a loaded machine may fail
  // (a failure is a row of its own, so the rows above are not lost).
  const runtime = spawnSync(nodes[0]!, ["--version"], { encoding: "utf8" }).stdout.trim();
  await interleaved(nodes[0]!, [parallelOne, parallelFour, parallelBare], PARALLEL_RUNS, 1).then(
    ([one, four, bareParallel]) => {
      row(runtime, parallelOne.name, one!, parallelBare.name, bareParallel!);
      row(runtime, parallelFour.name, four!, parallelBare.name, bareParallel!);
    },
    (err: Error) => missing(runtime, "parallel cold get-token rows", `failed: ${err.message.split("\n")[0]}`),
  );

  const header = ["node", "measured", "median ms", "yardstick", "median ms", "ratio", "IdP requests/run"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const cpu = cpus();
  process.stdout.write(
    `${RUNS} runs per row after ${WARMUP} warm-up rounds (parallel rows: ${PARALLEL_RUNS} after 1), interleaved; ${cpu.length}× ${cpu[0]?.model ?? "cpu"}; kubectl ${KUBECTL_VERSIONS.at(-1)}` +
      `${setup.executable.ok ? `; dist/kubelogin ${(setup.executable.bytes / 1e6).toFixed(0)} MB` : ""}\n`,
  );
  process.stdout.write(`${[line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")}\n`);
} finally {
  await setup.close();
}

/** The fakes, the keychain if there is one, the npm-installed package and the executable. */
async function startSetup() {
  const pkiDir = await mkdtemp(join(tmpdir(), "kubelogin-bench-pki-"));
  const work = await mkdtemp(join(tmpdir(), "kubelogin-bench-"));
  const stack = await startLocalStack(await createTestPki(pkiDir));
  const imds = await startFakeImds({ systemAssigned: { clientId: "bench-msi" }, issue: (id, resource) => stack.entra.issueManagedIdentityToken(id, resource) });
  const availability = secretServiceAvailability({});
  const home = availability.run ? await keyringHome() : undefined;
  const keyring: SecretService | undefined = home ? await startSecretService(home, { unlocked: true }) : undefined;
  const npmInstalledMain = await installNpmPackage(work);
  const executable = await buildExecutable();
  return {
    stack,
    imds,
    keyring,
    keyringMissing: availability.skipReason,
    npmInstalledMain,
    executable,
    async close() {
      await keyring?.stop();
      if (home) await removeKeyringHome(home);
      await Promise.all([stack.close(), imds.close()]);
      await rm(pkiDir, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** npm with this machine's settings, minus what `npm run` exports to its children (npm_config_*); no time limit (a loaded machine). */
function npm(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith("npm_") && e[1] !== undefined));
  return new Promise((resolve) => {
    execFile("npm", args, { env, cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** As test/e2e/npm-package.test.ts does: pack (the build is fresh), install offline into a temp prefix; the installed entry. */
async function installNpmPackage(work: string): Promise<string> {
  const pack = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work]);
  if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const [{ filename }] = JSON.parse(pack.stdout) as [{ filename: string }];
  const prefix = join(work, "prefix");
  const install = await npm(["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", join(work, filename)]);
  if (install.code !== 0) throw new Error(`npm install of the packed tarball failed: ${install.stderr}`);
  return join(prefix, "lib/node_modules/kubelogin/dist/main.js");
}

/** dist/kubelogin as `npm run package` makes it (npm run build, which runs first, removes it). */
async function buildExecutable(): Promise<{ ok: true; bytes: number } | { ok: false; why: string }> {
  if (!existsSync(EXECUTABLE)) {
    const built = await new Promise<string | undefined>((resolve) => {
      execFile(process.execPath, [join(ROOT, "scripts/package.mjs")], { cwd: ROOT }, (error, _, stderr) => resolve(error ? stderr.trim().split("\n").at(-1) || error.message : undefined));
    });
    if (built !== undefined) return { ok: false, why: built };
  }
  const { size } = await stat(EXECUTABLE);
  return { ok: true, bytes: size };
}

async function writeStaticKubeconfig(stack: LocalStack, token: string): Promise<string> {
  const path = join(stack.home, "bench-static.kubeconfig");
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "aks", cluster: { server: stack.api.url, "certificate-authority-data": stack.api.caData } }],
    contexts: [{ name: "aks", context: { cluster: "aks", user: "static" } }],
    "current-context": "aks",
    users: [{ name: "static", user: { token } }],
  };
  await writeFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

function spawnAsync(file: string, args: readonly string[], env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.resume();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stderr }));
  });
}
