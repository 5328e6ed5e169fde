// npm run bench: a cached `kubelogin get-token` against bare `node -e 0`, measured in the same run,
// interleaved so machine noise hits both alike. Prints means, medians and the ratio.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki } from "../test/support/pki.js";
import { KUBELOGIN_BIN, SERVER_ID, startLocalStack } from "../test/support/local-stack.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 3;

const pkiDir = await mkdtemp(join(tmpdir(), "kubelogin-bench-pki-"));
const stack = await startLocalStack(await createTestPki(pkiDir));
try {
  const cacheDir = join(stack.home, "bench-cache");
  const getToken = [
    KUBELOGIN_BIN, "get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", stack.secretApp.clientId,
    "--tenant-id", stack.tenantId, "--authority-host", stack.entra.url, "--cache-dir", cacheDir,
  ];
  const env = stack.env({ AZURE_CLIENT_SECRET: stack.secretApp.secret });
  // Fill the cache (the one run that talks to the fake Entra ID).
  const fill = await stack.kubelogin(getToken.slice(1), { env: { AZURE_CLIENT_SECRET: stack.secretApp.secret } });
  if (fill.code !== 0) throw new Error(`could not fill the cache: ${fill.stderr}`);
  const requestsAfterFill = stack.entra.requests.length;

  const time = (args: string[]): number => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
    return elapsed;
  };
  const baseline: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const b = time(["-e", "0"]);
    const c = time(getToken);
    if (i >= WARMUP) {
      baseline.push(b);
      cached.push(c);
    }
  }
  if (stack.entra.requests.length !== requestsAfterFill) throw new Error("the cached runs talked to the identity provider");

  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const row = (name: string, xs: number[]): string => `${name.padEnd(34)} mean ${mean(xs).toFixed(1).padStart(6)} ms   median ${median(xs).toFixed(1).padStart(6)} ms`;
  process.stdout.write(`${RUNS} runs each (after ${WARMUP} warm-up), interleaved, ${process.version}\n`);
  process.stdout.write(`${row("node -e 0", baseline)}\n`);
  process.stdout.write(`${row("kubelogin get-token (cached)", cached)}\n`);
  process.stdout.write(`ratio (mean)   ${(mean(cached) / mean(baseline)).toFixed(3)}\n`);
  process.stdout.write(`ratio (median) ${(median(cached) / median(baseline)).toFixed(3)}\n`);
} finally {
  await stack.close();
  await rm(pkiDir, { recursive: true, force: true });
}
