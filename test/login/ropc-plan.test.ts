// ropc's plan and sign-in at their edges, against the fake Entra ID (MSAL is real): the client and
// tenant checks, the exact cache key (user name case-folded, the password's digest, no account, no
// files), PoP's key, envelope and request, and the credential named at -v 5.
import { createHash } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { run } from "../../src/cli/run.js";
import { MissingOptionError, ValidationError } from "../../src/errors.js";
import { entraTarget } from "../../src/login/authority.js";
import { ropc } from "../../src/login/ropc.js";
import type { PlanContext } from "../../src/login/types.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const CAROL = { username: "carol@contoso.example", password: "Carol-Pass.1" };
const U = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/c";
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

let entra: FakeEntra;
let cacheDir: string;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [] });
  entra.users.addPublicClient(CLIENT);
  entra.users.addUser(CAROL);
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-ropc-plan-"));
});
afterAll(async () => {
  await entra.close();
});

const optionsFor = (argv: readonly string[]) => {
  const { options, provenance } = resolveOptions(parseFlags(["-l", "ropc", "--server-id", SERVER_ID, ...argv], GET_TOKEN_OPTIONS), {}, "/home/test");
  return validateOptions(options, provenance);
};
const context = (): PlanContext => ({ env: {}, homedir: "/home/test", cacheDir, state: createFileStore({ dir: cacheDir, now: Date.now, owns: () => true }) });
const planError = (argv: readonly string[]) =>
  ropc.plan(optionsFor(argv), context()).then(
    () => expect.unreachable("the plan should have failed"),
    (err: unknown) => err as Error & { hint?: string },
  );

describe("the plan", () => {
  test("client and tenant are checked before the user", async () => {
    const noClient = await planError(["--tenant-id", TENANT]);
    expect(noClient).toBeInstanceOf(MissingOptionError);
    expect([noClient.message, noClient.hint]).toEqual(["client ID cannot be empty", "pass --client-id or set AZURE_CLIENT_ID or AAD_SERVICE_PRINCIPAL_CLIENT_ID"]);
    const noTenant = await planError(["--client-id", CLIENT]);
    expect([noTenant.message, noTenant.hint]).toEqual(["tenant ID cannot be empty", "pass --tenant-id or set AZURE_TENANT_ID"]);
    const bad = await planError(["--client-id", CLIENT, "--tenant-id", "a b", "--username", CAROL.username, "--password", CAROL.password]);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad.hint).toBe("--tenant-id takes a tenant ID (a GUID) or a domain name such as contoso.onmicrosoft.com");
  });

  test("keyed by the user name in lower case and the password's digest; no record, no files", async () => {
    const argv = ["--client-id", CLIENT, "--tenant-id", TENANT, "--username", "Carol@Contoso.example", "--password", CAROL.password, "--environment", "AzureMoonCloud"];
    const plan = await ropc.plan(optionsFor(argv), context());
    const target = entraTarget(optionsFor(argv));
    expect(plan.cacheKey).toEqual(["ropc", "bearer", target.authorityHost, TENANT, CLIENT, target.scope, "user", "carol@contoso.example", sha256(CAROL.password), "account", ""]);
    expect(plan.inputs).toEqual([]);
    expect(plan.warnings).toEqual(target.warnings);
    expect(plan.warnings.length).toBeGreaterThan(0);
    expect(plan.present).toBeUndefined();
    expect(ropc.mode).toBe("ropc");
  });

  test("PoP: the key's part follows the password's digest, and the token is presented as an envelope", async () => {
    const argv = ["--client-id", CLIENT, "--tenant-id", TENANT, "--username", CAROL.username, "--password", CAROL.password, "--pop-enabled", "--pop-claims", `u=${U}`];
    const plan = await ropc.plan(optionsFor(argv), context());
    expect(plan.cacheKey.slice(6, 9)).toEqual(["user", CAROL.username, sha256(CAROL.password)]);
    expect(plan.cacheKey.length).toBeGreaterThan(11);
    expect(plan.cacheKey.slice(-2)).toEqual(["account", ""]);
    expect(typeof plan.present).toBe("function");
  });
});

describe("signing in", () => {
  const args = (extra: string[]) => [
    "get-token", "-l", "ropc", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", TENANT, "--authority-host", entra.url,
    "--username", CAROL.username, "--password", CAROL.password, ...extra,
  ];

  test("-v 5 names the credential; the password grant asks for the user's token", async () => {
    const mark = entra.requests.length;
    const rt = testRuntime();
    expect(await run(args(["--cache-dir", await mkdtemp(join(cacheDir, "c-")), "-v", "5"]), rt), rt.stderr.text()).toBe(0);
    expect(rt.stderr.text()).toContain("using credential: UsernamePasswordCredential\n");
    const request = entra.requests.slice(mark).find((r) => r.form.grant_type === "password")!;
    expect([request.form.username, request.form.password]).toEqual([CAROL.username, CAROL.password]);
  });

  test("PoP: the request binds the key and the answer is an envelope for the cluster", async () => {
    const mark = entra.requests.length;
    const rt = testRuntime();
    expect(await run(args(["--cache-dir", await mkdtemp(join(cacheDir, "c-")), "-v", "5", "--pop-enabled", "--pop-claims", `u=${U}`]), rt), rt.stderr.text()).toBe(0);
    expect(rt.stderr.text()).toContain("using credential: UsernamePasswordCredentialWithPoP\n");
    const request = entra.requests.slice(mark).find((r) => r.form.grant_type === "password")!;
    expect(request.form.token_type).toBe("pop");
    const kid = (JSON.parse(Buffer.from(request.form.req_cnf!, "base64url").toString("utf8")) as { kid: string }).kid;
    const envelope = (JSON.parse(rt.stdout.text()) as { status: { token: string } }).status.token;
    const payload = JSON.parse(Buffer.from(envelope.split(".")[1]!, "base64url").toString("utf8")) as { at: string; u: string };
    expect(payload.u).toBe(U);
    expect(JSON.parse(Buffer.from(payload.at.split(".")[1]!, "base64url").toString("utf8"))).toMatchObject({ cnf: { kid } });
  });
});
