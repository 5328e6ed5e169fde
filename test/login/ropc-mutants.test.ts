// ropc where ropc-plan leaves off: the exact text of an invalid tenant (upstream's constructor
// names the credential, except on the PoP path), and what --timeout says when Entra never answers
// the password grant, with and without PoP. Against the fake Entra ID; MSAL is real.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const CAROL = { username: "carol@contoso.example", password: "Carol-Pass.1" };
const INVALID = "invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names";
const U = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/c";

let entra: FakeEntra;
let cacheDir: string;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [] });
  entra.users.addPublicClient(CLIENT);
  entra.users.addUser(CAROL);
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-ropc-mutants-"));
});
afterAll(async () => {
  await entra.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const args = async (tenant: string, extra: string[] = []) => [
  "get-token", "-l", "ropc", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", tenant, "--authority-host", entra.url,
  "--username", CAROL.username, "--password", CAROL.password, "--cache-dir", await mkdtemp(join(cacheDir, "c-")), ...extra,
];

test("an invalid tenant: the credential's constructor says so, except on the PoP path", async () => {
  const plain = testRuntime();
  expect(await run(await args("a b"), plain)).toBe(1);
  expect(plain.stderr.text().split("\n")[0]).toBe(`Error: failed to create azidentity credential: failed to create username password credential: ${INVALID}`);
  const pop = testRuntime();
  expect(await run(await args("a b", ["--pop-enabled", "--pop-claims", `u=${U}`]), pop)).toBe(1);
  expect(pop.stderr.text().split("\n")[0]).toBe(`Error: failed to create azidentity credential: ${INVALID}`);
});

/** A fetch that never answers the token request (until --timeout aborts it). */
const stallingTokenRequests: typeof fetch = (input, init) =>
  String(input).includes("/oauth2/v2.0/token")
    ? new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason as Error)))
    : fetch(input, init);

test("--timeout while Entra does not answer: Authenticate's wording", async () => {
  const rt = testRuntime({ fetch: stallingTokenRequests });
  expect(await run(await args(TENANT, ["--timeout", "1s"]), rt)).toBe(1);
  expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to authenticate: UsernamePasswordCredential: context deadline exceeded");
});

test("--timeout while Entra does not answer, with PoP: upstream's two PoP breadcrumbs", async () => {
  const rt = testRuntime({ fetch: stallingTokenRequests });
  expect(await run(await args(TENANT, ["--timeout", "1s", "--pop-enabled", "--pop-claims", `u=${U}`]), rt)).toBe(1);
  expect(rt.stderr.text().split("\n")[0]).toBe(
    "Error: failed to get token: failed to create PoP token using username and password credential: failed to create PoP token with username/password flow: context deadline exceeded",
  );
});
