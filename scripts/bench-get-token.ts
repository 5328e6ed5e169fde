// npm run bench: one table, medians over interleaved runs (machine noise hits each side alike),
// each row beside its yardstick and the ratio, on Node 20 (this process's) and on Node 24 (the
// one scripts/install-test-deps.sh puts in .cache/node24), each against its own `node -e 0`:
// - cached get-token (file backend): spn with a secret, spn with a PFX certificate, msi, against
//   bare `node -e 0`;
// - cold spn get-token (an empty cache dir each run) against a bare MSAL script making the same
//   request to the same fake Entra ID (scripts/bench-bare-msal.mjs).
// BENCH_RUNS sets the runs per row (default 30), BENCH_NODES a `:`-separated list of node binaries.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeImds } from "../test/fakes/fake-imds.js";
import { createTestPki } from "../test/support/pki.js";
import { KUBELOGIN_BIN, SERVER_ID, startLocalStack } from "../test/support/local-stack.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 3;
const NODE24 = fileURLToPath(new URL("../.cache/node24/bin/node", import.meta.url));
const BARE_MSAL = fileURLToPath(new URL("./bench-bare-msal.mjs", import.meta.url));
const nodes = process.env.BENCH_NODES?.split(":") ?? [process.execPath, ...(existsSync(NODE24) ? [NODE24] : [])];

interface Command {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** A fresh state before each run (an empty cache dir). */
  readonly before?: () => Promise<void>;
  /** Talks to the fakes in this process, so it must not block the event loop: spawned asynchronously. */
  readonly online?: true;
}

const pkiDir = await mkdtemp(join(tmpdir(), "kubelogin-bench-pki-"));
const pki = await createTestPki(pkiDir);
const stack = await startLocalStack(pki);
const imds = await startFakeImds({ systemAssigned: { clientId: "bench-msi" }, issue: (id, resource) => stack.entra.issueManagedIdentityToken(id, resource) });
try {
  const cacheDir = join(stack.home, "bench-cache");
  const spn = ["get-token", "-l", "spn", "--server-id", SERVER_ID, "--tenant-id", stack.tenantId, "--authority-host", stack.entra.url];
  const secretEnv = stack.env({ AZURE_CLIENT_SECRET: stack.secretApp.secret });
  const cached: Command[] = [
    { name: "get-token cached, spn secret", args: [KUBELOGIN_BIN, ...spn, "--client-id", stack.secretApp.clientId, "--cache-dir", cacheDir], env: secretEnv },
    {
      name: "get-token cached, spn PFX",
      args: [KUBELOGIN_BIN, ...spn, "--client-id", stack.certApp.clientId, "--cache-dir", cacheDir, "--client-certificate", stack.certApp.files.pfx],
      env: stack.env({ AZURE_CLIENT_CERTIFICATE_PASSWORD: stack.certApp.files.pfxPassword }),
    },
    {
      name: "get-token cached, msi",
      args: [KUBELOGIN_BIN, "get-token", "-l", "msi", "--server-id", SERVER_ID, "--cache-dir", cacheDir],
      env: stack.env({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.imdsHost }),
    },
  ];
  const coldDir = join(stack.home, "bench-cold");
  const cold: Command = {
    name: "get-token cold, spn secret",
    args: [KUBELOGIN_BIN, ...spn, "--client-id", stack.secretApp.clientId, "--cache-dir", coldDir],
    env: secretEnv,
    before: () => rm(coldDir, { recursive: true, force: true }),
    online: true,
  };
  const bareMsal: Command = {
    name: "bare MSAL client credentials",
    args: [BARE_MSAL],
    env: stack.env({
      BENCH_AUTHORITY_HOST: stack.entra.url.endsWith("/") ? stack.entra.url : `${stack.entra.url}/`,
      BENCH_TENANT: stack.tenantId,
      BENCH_CLIENT_ID: stack.secretApp.clientId,
      BENCH_CLIENT_SECRET: stack.secretApp.secret,
      BENCH_SCOPE: `${SERVER_ID}/.default`,
    }),
    online: true,
  };
  const bare: Command = { name: "node -e 0", args: ["-e", "0"], env: stack.env() };

  const time = async (node: string, command: Command, online = command.online): Promise<number> => {
    await command.before?.();
    const started = process.hrtime.bigint();
    const { status, stderr } = online ? await spawnAsync(node, command) : spawnSync(node, command.args, { env: command.env, stdio: ["ignore", "pipe", "pipe"] });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (status !== 0) throw new Error(`${command.name} failed on ${node}: ${stderr}`);
    return elapsed;
  };
  /** Medians of each command, run in turn RUNS times after WARMUP rounds. */
  const interleaved = async (node: string, commands: readonly Command[]): Promise<number[]> => {
    const samples = commands.map((): number[] => []);
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const [c, command] of commands.entries()) {
        const elapsed = await time(node, command);
        if (i >= WARMUP) samples[c]!.push(elapsed);
      }
    }
    return samples.map((xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
  };

  const rows: string[][] = [];
  for (const node of nodes) {
    const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
    // Fill the caches (these runs talk to the fake identity providers).
    await rm(cacheDir, { recursive: true, force: true });
    for (const command of cached) await time(node, command, true);
    const requests = stack.entra.requests.length + imds.requests.length;
    const [base, ...hits] = await interleaved(node, [bare, ...cached]);
    if (stack.entra.requests.length + imds.requests.length !== requests) throw new Error("a cached run talked to an identity provider");
    for (const [i, command] of cached.entries()) rows.push([version, command.name, hits[i]!.toFixed(1), bare.name, base!.toFixed(1), (hits[i]! / base!).toFixed(2)]);
    const [coldMs, bareMs] = await interleaved(node, [cold, bareMsal]);
    rows.push([version, cold.name, coldMs!.toFixed(1), bareMsal.name, bareMs!.toFixed(1), (coldMs! / bareMs!).toFixed(2)]);
  }

  const header = ["node", "measured", "median ms", "yardstick", "median ms", "ratio"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  process.stdout.write(`${RUNS} runs per row after ${WARMUP} warm-up rounds, interleaved; ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}\n`);
  process.stdout.write(`${[line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")}\n`);
} finally {
  await Promise.all([stack.close(), imds.close()]);
  await rm(pkiDir, { recursive: true, force: true });
}

function spawnAsync(node: string, command: Command): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // stdout a pipe, as kubectl gives it (kubelogin refuses a /dev/null it cannot tell from a closed stdout).
    const child = spawn(node, command.args, { env: command.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.resume();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stderr }));
  });
}
