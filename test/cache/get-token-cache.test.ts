// The cache as get-token uses it, in-process through run() against the fake Entra ID: an entry
// with an impossible expiry is corrupt (set aside and rebuilt), never served or fatal.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = { clientId: "3f0bca0b-0d0b-4d2b-9c87-0a5d2c1c6d31", secret: "cache-test-Secret.value" };

let entra: FakeEntra;
const dirs: string[] = [];
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [APP] });
});
afterAll(async () => {
  await entra.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function getToken(cacheDir: string) {
  const rt = testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret } });
  const argv = ["get-token", "-l", "spn", "--server-id", SERVER_ID, "--client-id", APP.clientId, "--tenant-id", TENANT, "--authority-host", entra.url, "--cache-dir", cacheDir];
  const code = await run(argv, rt);
  return { code, stdout: rt.stdout.text(), stderr: rt.stderr.text() };
}

describe("get-token with an impossible cached expiry", () => {
  test.each([
    ["1e300", "1e300"],
    ["milliseconds where seconds belong", String(Date.now() + 3_600_000)],
    ["a negative number", "-1"],
  ])("expiresOn %s: the entry is set aside and rebuilt, and kubectl gets a timestamp it can parse", async (_, expiresOn) => {
    const cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-expiry-"));
    dirs.push(cacheDir);
    expect((await getToken(cacheDir)).code).toBe(0);
    const entry = (await readdir(cacheDir)).find((name) => /^token-[0-9a-f]+\.json$/.test(name))!;
    const stored = JSON.parse(await readFile(join(cacheDir, entry), "utf8")) as { accessToken: string };
    await writeFile(join(cacheDir, entry), `{"accessToken":${JSON.stringify(stored.accessToken)},"expiresOn":${expiresOn}}`);

    const result = await getToken(cacheDir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/unreadable; set aside as .*\.corrupt-.* and rebuilding it/);
    const credential = JSON.parse(result.stdout) as { status: { token: string; expirationTimestamp: string } };
    expect(credential.status.expirationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(credential.status.expirationTimestamp) - Date.now()).toBeLessThan(2 * 3_600_000);
    const rebuilt = JSON.parse(await readFile(join(cacheDir, entry), "utf8")) as { expiresOn: number };
    expect(rebuilt.expiresOn * 1000 - Date.now()).toBeLessThan(2 * 3_600_000);
    expect((await readdir(cacheDir)).filter((name) => name.includes(".corrupt-"))).toHaveLength(1);
  });
});
