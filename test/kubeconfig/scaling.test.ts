// convert-kubeconfig must stay linear in the number of users (issue 7 item 11: it was quadratic,
// 100,000 users took more than ten minutes with the lock held). No wall-clock bound: the time for
// 8x the users must grow like 8x, not 64x. Runs interleaved, best of each, so a busy machine
// slows both sizes alike, after a warm-up.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { convertKubeconfig } from "../../src/kubeconfig/convert.js";
import { loadKubeconfig } from "../../src/kubeconfig/load.js";
import { planWrites, writeKubeconfigChanges } from "../../src/kubeconfig/write.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { manyProviderUsersYaml } from "../fixtures/kubeconfigs.js";

const dir = await mkdtemp(join(tmpdir(), "kubelogin-scaling-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function convertSeconds(users: number): Promise<number> {
  const path = join(dir, `config-${users}`);
  await writeFile(path, manyProviderUsersYaml(users));
  const started = process.hrtime.bigint();
  const loaded = await loadKubeconfig({ explicitPath: path, env: {}, homedir: "/h" });
  const { changedUsers } = convertKubeconfig(loaded.merged, {
    options: resolveOptions(parseFlags(["-l", "azurecli"], GET_TOKEN_OPTIONS), {}, "/h").options,
    changed: new Set(["loginMethod"]),
  });
  await writeKubeconfigChanges(planWrites(changedUsers, loaded.origins, path));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  expect(changedUsers).toHaveLength(users);
  expect((await readFile(path, "utf8")).match(/command: kubelogin/g)).toHaveLength(users);
  return seconds;
}

test("8x the users takes well under 64x the time (linear, not quadratic)", { timeout: 600_000 }, async () => {
  // Warm up first, so the small size does not also pay for compiling the code.
  await convertSeconds(200);
  const small: number[] = [];
  const large: number[] = [];
  for (let round = 0; round < 2; round++) {
    small.push(await convertSeconds(500));
    large.push(await convertSeconds(4_000));
  }
  const ratio = Math.min(...large) / Math.min(...small);
  expect(ratio, `500 users: ${Math.min(...small).toFixed(2)} s, 4,000 users: ${Math.min(...large).toFixed(2)} s`).toBeLessThan(12);
});
