// npm run mutate [-- stryker flags]: mutation testing of the pure core (StrykerJS, stryker.config.json).
// Not part of CI. The test PKI is made here, as test/support/global-setup.ts does for vitest, so
// the fakes' HTTPS is trusted in whatever worker Stryker's vitest runner uses.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki } from "../test/support/pki.js";

const dir = mkdtempSync(join(tmpdir(), "kubelogin-mutate-pki-"));
try {
  const pki = await createTestPki(dir);
  // Samoa's zone (UTC+13), so tests of local times can tell them from UTC: Stryker's runner puts
  // tests in worker threads, where a test assigning process.env.TZ does not change Date's zone.
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: pki.caCertPath, KUBELOGIN_TEST_PKI_DIR: dir, TZ: "Pacific/Apia" };
  const result = spawnSync("npx", ["stryker", "run", ...process.argv.slice(2)], { stdio: "inherit", env });
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
