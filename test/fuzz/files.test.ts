// Generated cache entries and kubeconfig documents (issue 12, item 7), in-process. A cache entry
// is only ever a cache: whatever it holds, get-token still answers (from it or from fake Entra)
// and leaves only whole files behind. A kubeconfig is converted or refused with one `Error:`, and
// is then either untouched or a whole YAML document.
import fc from "fast-check";
import { dump, load } from "js-yaml";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { AKS_CLIENT_ID, AKS_SERVER_ID, manyProviderUsersYaml } from "../fixtures/kubeconfigs.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";
import { missingProgram, refusingFetch, runChecked } from "./invariants.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = { clientId: "5b1c8f07-5c43-4a5e-b0b4-8c8a6a0d6e21", secret: "fuzz-Secret.value" };

let entra: FakeEntra;
let scratch: string;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [APP] });
  scratch = await mkdtemp(join(tmpdir(), "kubelogin-fuzz-files-"));
});
afterAll(async () => {
  await entra.close();
});

const oddText = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: "binary", maxLength: 30 }), fc.constantFrom("", "null", "[]", "{}", "0", "-1", "1e400", "\u0000", "\ufeff{}"));

describe("cache entries", () => {
  const getTokenArgs = (cacheDir: string): string[] => [
    "get-token", "-l", "spn", "--server-id", AKS_SERVER_ID, "--client-id", APP.clientId, "--tenant-id", TENANT, "--authority-host", entra.url, "--cache-dir", cacheDir,
  ];

  const spnRuntime = () => testRuntime({ env: { AZURE_CLIENT_SECRET: APP.secret } });

  test("whatever a token entry holds, get-token answers and leaves whole files", async () => {
    // A real entry first, to learn its name and shape.
    const seedDir = join(scratch, "seed");
    expect(await run(getTokenArgs(seedDir), spnRuntime())).toBe(0);
    const entryName = (await readdir(seedDir)).find((name) => /^token-.+\.json$/.test(name))!;
    const realText = await readFile(join(seedDir, entryName), "utf8");
    const real = JSON.parse(realText) as Record<string, unknown>;
    const anyValue = fc.oneof(oddText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.json().map((j) => JSON.parse(j) as unknown), fc.constant(Date.now() + 3_600_000), fc.constant(new Date(Date.now() + 3_600_000).toISOString()));
    const content = fc.oneof(
      // The real entry with some members changed, dropped or added.
      fc.record({ drop: fc.subarray(Object.keys(real)), change: fc.dictionary(fc.constantFrom(...Object.keys(real), "extra"), anyValue, { maxKeys: 3 }) }).map(({ drop, change }) => {
        const entry: Record<string, unknown> = { ...real, ...change };
        for (const key of drop) delete entry[key];
        return JSON.stringify(entry);
      }),
      // Cut short, as a crash mid-write (without the rename) would leave it.
      fc.nat({ max: realText.length }).map((n) => realText.slice(0, n)),
      fc.json(),
      oddText,
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(content, async (text) => {
        const cacheDir = join(scratch, `cache-${n++}`);
        await mkdir(cacheDir, { mode: 0o700 });
        await writeFile(join(cacheDir, entryName), text, { mode: 0o600 });
        const rt = spnRuntime();
        expect(await runChecked(getTokenArgs(cacheDir), rt, "exec-credential-or-empty"), rt.stderr.text()).toBe(0);
        for (const name of (await readdir(cacheDir)).filter((f) => /^token-.+\.json$/.test(f))) {
          const written = await readFile(join(cacheDir, name), "utf8");
          expect(() => JSON.parse(written), name).not.toThrow();
        }
      }),
      // Each run may sign in at fake Entra: fewer of them.
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});

describe("kubeconfig documents", () => {
  const scalar = fc.oneof(oddText, fc.integer(), fc.boolean(), fc.constant(null));
  const exec = fc.record(
    {
      apiVersion: fc.constantFrom("client.authentication.k8s.io/v1beta1", "client.authentication.k8s.io/v1", "v0", ""),
      command: fc.constantFrom("kubelogin", "/usr/local/bin/kubelogin", "kubectl-oidc_login", "az", ""),
      args: fc.oneof(
        fc.array(fc.oneof(fc.constantFrom("get-token", "--login", "-l", "devicecode", "spn", "azurecli", "--server-id", AKS_SERVER_ID, "--client-id", "--tenant-id", TENANT, "--environment", "AzurePublicCloud", "--legacy", "--pop-enabled"), oddText), { maxLength: 12 }),
        scalar,
      ),
      env: fc.oneof(fc.constant(null), fc.array(fc.record({ name: fc.constantFrom("AAD_LOGIN_METHOD", "AZURE_CLIENT_ID", "X"), value: scalar }, { requiredKeys: [] }), { maxLength: 3 })),
      installHint: oddText,
      provideClusterInfo: fc.oneof(fc.boolean(), scalar),
      interactiveMode: fc.constantFrom("IfAvailable", "Never", "Always", ""),
    },
    { requiredKeys: [] },
  );
  const authProvider = fc.record(
    {
      name: fc.constantFrom("azure", "oidc", "gcp", ""),
      config: fc.dictionary(fc.constantFrom("apiserver-id", "client-id", "tenant-id", "environment", "config-mode", "access-token", "refresh-token"), fc.oneof(scalar, fc.constantFrom(AKS_SERVER_ID, AKS_CLIENT_ID, TENANT, "1", "0")), { maxKeys: 6 }),
    },
    { requiredKeys: [] },
  );
  const user = fc.record(
    { name: fc.oneof(fc.constantFrom("u", "clusterUser_rg_aks"), oddText), user: fc.oneof(fc.record({ exec, "auth-provider": authProvider, token: oddText }, { requiredKeys: [] }), scalar) },
    { requiredKeys: [] },
  );
  const document = fc.record(
    {
      apiVersion: fc.constantFrom("v1", "", "v2"),
      kind: fc.constantFrom("Config", "Pod", ""),
      clusters: fc.oneof(fc.array(fc.record({ name: fc.constantFrom("aks", "other"), cluster: fc.record({ server: fc.constantFrom("https://aks.example:443", "not a url") }) }), { maxLength: 2 }), scalar),
      contexts: fc.oneof(fc.array(fc.record({ name: fc.constantFrom("aks", "other"), context: fc.record({ cluster: fc.constantFrom("aks"), user: fc.constantFrom("u", "clusterUser_rg_aks", "missing") }) }), { maxLength: 2 }), scalar),
      "current-context": fc.constantFrom("aks", "other", "missing", ""),
      users: fc.oneof(fc.array(user, { maxLength: 4 }), scalar),
    },
    { requiredKeys: [] },
  );
  const yamlText = fc.oneof(
    { weight: 4, arbitrary: document.map((doc) => dump(doc)) },
    // Cut short, or two documents, or a real provider file with bytes flipped.
    { weight: 1, arbitrary: fc.tuple(document, fc.nat()).map(([doc, n]) => dump(doc).slice(0, n)) },
    { weight: 1, arbitrary: fc.tuple(document, document).map(([a, b]) => `${dump(a)}---\n${dump(b)}`) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(([at, junk]) => { const text = manyProviderUsersYaml(2); const i = at % text.length; return text.slice(0, i) + junk + text.slice(i + 1); }) },
    { weight: 1, arbitrary: oddText },
    // A real provider file as az writes it, so conversions happen often enough to be checked (P(none in 100 runs) < 0.1%).
    { weight: 4, arbitrary: fc.constant(manyProviderUsersYaml(2)) },
  );
  const args = fc.tuple(
    fc.constantFrom("devicecode", "spn", "azurecli", "msi", "workloadidentity", "interactive", "ropc", "azd", "bogus"),
    fc.subarray(["--legacy", "--context=aks", "--context=missing", "--pop-enabled", "--client-id=c", "--server-id=s", "--tenant-id=t", "--environment=AzureChinaCloud", "--azure-config-dir=/nonexistent"]),
  );

  test("convert-kubeconfig converts or refuses, and the file is the old one or a whole new document", async () => {
    let n = 0;
    const outcomes = { refused: 0, converted: 0, unchanged: 0 };
    await fc.assert(
      fc.asyncProperty(yamlText, args, async (text, [mode, extra]) => {
        const path = join(scratch, `kubeconfig-${n++}`);
        await writeFile(path, text);
        const rt = testRuntime({ env: { HOME: scratch }, fetch: refusingFetch, spawn: missingProgram });
        const code = await runChecked(["convert-kubeconfig", "-l", mode, "--kubeconfig", path, ...extra], rt, "empty");
        const after = await readFile(path, "utf8");
        if (code === 1) {
          expect(after).toBe(text);
          outcomes.refused++;
        } else if (after !== text) {
          expect(() => load(after)).not.toThrow();
          outcomes.converted++;
        } else outcomes.unchanged++;
      }),
      { numRuns: RUNS },
    );
    // The generator reaches every outcome, so the property is not passing on refusals alone.
    expect(Object.values(outcomes).every((count) => count > 0), JSON.stringify(outcomes)).toBe(true);
  });
});
