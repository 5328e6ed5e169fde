// npx tsx scripts/bench-convert.ts [users...]: the built `kubelogin convert-kubeconfig` on
// generated kubeconfigs of 4,000, 16,000 and 100,000 azure auth-provider users (or the sizes
// given), one cold process each, as a user runs it. Prints file size, time and time per user,
// whose flatness across sizes is what matters (issue 7 item 11: it used to grow with the size).
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { manyProviderUsersYaml } from "../test/fixtures/kubeconfigs.js";
import { KUBELOGIN_BIN } from "../test/support/local-stack.js";

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const dir = await mkdtemp(join(tmpdir(), "kubelogin-bench-convert-"));
try {
  console.log("users      size     seconds  µs/user");
  for (const users of sizes.length > 0 ? sizes : [4_000, 16_000, 100_000]) {
    const path = join(dir, `config-${users}`);
    await writeFile(path, manyProviderUsersYaml(users));
    const bytes = (await stat(path)).size;
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [KUBELOGIN_BIN, "convert-kubeconfig", "--kubeconfig", path, "-l", "azurecli"], {
      env: { PATH: process.env.PATH ?? "", HOME: dir },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 0) throw new Error(`convert-kubeconfig failed for ${users} users: ${result.stderr}`);
    const line = [
      String(users).padEnd(9),
      `${(bytes / 1e6).toFixed(1)} MB`.padStart(8),
      seconds.toFixed(2).padStart(10),
      ((seconds * 1e6) / users).toFixed(0).padStart(8),
    ];
    console.log(line.join(" "));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
