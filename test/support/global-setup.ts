// One CA and server certificate per test run, made before the test workers start: Node reads
// NODE_EXTRA_CA_CERTS only at process start, and forked workers (pool "forks") inherit it. This is
// how a user behind a TLS-inspecting proxy makes kubelogin trust it, so MSAL's real fetch is used.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki } from "./pki.js";

export default async function setup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "kubelogin-test-pki-"));
  const pki = await createTestPki(dir);
  process.env.NODE_EXTRA_CA_CERTS = pki.caCertPath;
  process.env.KUBELOGIN_TEST_PKI_DIR = dir;
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
