// spn's plan and token request at their edges: the checks upstream's credential constructor makes
// (texts and hints), the exact cache key and inputs of each variant, the certificate read at
// token time, the -v 5 lines, PoP against the fake Entra (what it was asked, what failed), and
// --timeout while Entra does not answer. The strategy's plan is called as get-token calls it;
// tokens come from the fake Entra over HTTPS through the real get-token use case.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { run } from "../../src/cli/run.js";
import { CertificateError, MissingOptionError, ValidationError } from "../../src/errors.js";
import { getToken } from "../../src/exec/get-token.js";
import { entraTarget } from "../../src/login/authority.js";
import { spn, spnCacheKey } from "../../src/login/spn.js";
import type { LoginPlan, LoginStrategy, PlanContext } from "../../src/login/types.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions, type Env } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { createClientCertificate, loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "5b1c8f07-5c43-4a5e-b0b4-8c8a6a0d6e21";
const SECRET = "plan-Secret.value";
const U = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/c";
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

let dir: string;
let entra: FakeEntra;
const certApp = createClientCertificate("kubelogin-spn-plan");
const CERT_CLIENT = "0c2a7d6e-3b1f-4e5a-9c8d-7f6e5d4c3b2a";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-spn-plan-"));
  const pki = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
  entra = await startFakeEntra({ pki, tenants: [TENANT], apps: [{ clientId: CLIENT, secret: SECRET }, { clientId: CERT_CLIENT, certificatePem: certApp.certPem }] });
});
afterAll(async () => {
  await entra.close();
  await rm(dir, { recursive: true, force: true });
});

function optionsFor(argv: readonly string[], env: Env = {}) {
  const { options, provenance } = resolveOptions(parseFlags(["-l", "spn", "--server-id", SERVER_ID, ...argv], GET_TOKEN_OPTIONS), env, "/home/test");
  return validateOptions(options, provenance);
}

function contextFor(env: Env = {}): PlanContext {
  return { env, homedir: "/home/test", cacheDir: dir, state: createFileStore({ dir, now: Date.now, owns: () => true }) };
}

async function planFor(argv: readonly string[], env: Env = {}): Promise<LoginPlan> {
  return spn.plan(optionsFor(argv, env), contextFor(env));
}

async function planError(argv: readonly string[], env: Env = {}): Promise<{ error: unknown; message: string; hint: string | undefined }> {
  const error = await planFor(argv, env).then(
    () => expect.unreachable("the plan should have failed"),
    (err: unknown) => err,
  );
  return { error, message: (error as Error).message, hint: (error as { hint?: string }).hint };
}

describe("the checks upstream's credential constructor makes", () => {
  test("client and tenant ids, each named with the variables that could set it", async () => {
    const noClient = await planError(["--tenant-id", TENANT, "--client-secret", SECRET]);
    expect(noClient.error).toBeInstanceOf(MissingOptionError);
    expect([noClient.message, noClient.hint]).toEqual(["client ID cannot be empty", "pass --client-id or set AZURE_CLIENT_ID or AAD_SERVICE_PRINCIPAL_CLIENT_ID"]);
    const noTenant = await planError(["--client-id", CLIENT, "--client-secret", SECRET]);
    expect(noTenant.error).toBeInstanceOf(MissingOptionError);
    expect([noTenant.message, noTenant.hint]).toEqual(["tenant ID cannot be empty", "pass --tenant-id or set AZURE_TENANT_ID"]);
  });

  test("a tenant that is neither a GUID nor a domain has azidentity's text and a hint", async () => {
    const bad = await planError(["--client-id", CLIENT, "--tenant-id", "a/b", "--client-secret", SECRET]);
    expect(bad.error).toBeInstanceOf(ValidationError);
    expect(bad.hint).toBe("--tenant-id takes a tenant ID (a GUID) or a domain name such as contoso.onmicrosoft.com");
  });

  test("neither a secret nor a certificate names both flags and all their variables; either one alone is enough", async () => {
    const none = await planError(["--client-id", CLIENT, "--tenant-id", TENANT]);
    expect(none.error).toBeInstanceOf(MissingOptionError);
    expect([none.message, none.hint]).toEqual([
      "client secret cannot be empty",
      "pass --client-secret or --client-certificate or set AZURE_CLIENT_SECRET or AAD_SERVICE_PRINCIPAL_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH or AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE",
    ]);
    const pem = join(dir, "only-certificate.pem");
    await writeFile(pem, `${certApp.keyPkcs8Pem}${certApp.certPem}`);
    await expect(planFor(["--client-id", CLIENT, "--tenant-id", TENANT, "--client-certificate", pem])).resolves.toBeDefined();
    await expect(planFor(["--client-id", CLIENT, "--tenant-id", TENANT, "--client-secret", SECRET])).resolves.toBeDefined();
  });

  test("a certificate that is not there is refused at plan time with Go's open error and a hint", async () => {
    const missing = join(dir, "missing.pem");
    const bad = await planError(["--client-id", CLIENT, "--tenant-id", TENANT, "--client-certificate", missing]);
    expect(bad.error).toBeInstanceOf(CertificateError);
    expect(bad.message).toBe(`failed to read certificate: failed to read the certificate file (${missing}): open ${missing}: no such file or directory`);
    expect(bad.hint).toBe("check --client-certificate (or AZURE_CLIENT_CERTIFICATE_PATH / AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE)");
  });
});

describe("the plan's cache key, inputs and warnings", () => {
  const ids = ["--client-id", CLIENT, "--tenant-id", TENANT];
  const target = () => entraTarget(optionsFor([...ids, "--client-secret", SECRET]));

  test("a secret: mode, variant, authority, tenant, client, scope and the secret's digest; no files", async () => {
    const { authorityHost, scope } = target();
    const bearer = await planFor([...ids, "--client-secret", SECRET]);
    expect(bearer.cacheKey).toEqual(["spn", "bearer", authorityHost, TENANT, CLIENT, scope, "secret", sha256(SECRET)]);
    expect([bearer.inputs, bearer.warnings, bearer.present]).toEqual([[], [], undefined]);
    const legacy = await planFor([...ids, "--client-secret", SECRET, "--legacy"]);
    expect(legacy.cacheKey).toEqual(["spn", "legacy", authorityHost, TENANT, CLIENT, scope, "secret", sha256(SECRET)]);
    expect(spn.mode).toBe("spn");
  });

  test("a certificate: its path, file identity and the password's digest; the file is the plan's input", async () => {
    const pem = join(dir, "keyed.pem");
    await writeFile(pem, `${certApp.keyPkcs8Pem}${certApp.certPem}`);
    const info = await stat(pem);
    const { authorityHost, scope } = target();
    const plan = await planFor([...ids, "--client-certificate", pem, "--client-certificate-password", "pw"]);
    expect(plan.cacheKey).toEqual([
      "spn", "bearer", authorityHost, TENANT, CLIENT, scope,
      "certificate", pem, String(info.dev), String(info.ino), String(info.size), String(info.mtimeMs), String(info.ctimeMs), sha256("pw"),
    ]);
    expect(plan.inputs).toEqual([pem]);
    const legacy = await planFor([...ids, "--client-certificate", pem, "--legacy"]);
    expect(legacy.inputs).toEqual([pem]);
  });

  test("PoP: the u claim and the key in the key, an envelope to present, certificate inputs kept; --legacy wins over PoP", async () => {
    const pop = ["--pop-enabled", "--pop-claims", `u=${U}`];
    const withSecret = await planFor([...ids, "--client-secret", SECRET, ...pop]);
    expect(withSecret.cacheKey.slice(0, 2)).toEqual(["spn", `pop u=${U}`]);
    expect(withSecret.cacheKey.slice(6, 8)).toEqual(["secret", sha256(SECRET)]);
    expect(withSecret.cacheKey.length).toBeGreaterThan(8);
    expect(withSecret.inputs).toEqual([]);
    expect(withSecret.warnings).toEqual([]);
    expect(typeof withSecret.present).toBe("function");
    const pem = join(dir, "pop.pem");
    await writeFile(pem, `${certApp.keyPkcs8Pem}${certApp.certPem}`);
    expect((await planFor([...ids, "--client-certificate", pem, ...pop])).inputs).toEqual([pem]);
    const legacy = await planFor([...ids, "--client-secret", SECRET, "--legacy", ...pop]);
    expect(legacy.cacheKey[1]).toBe("legacy");
    expect(legacy.present).toBeUndefined();
    expect(spnCacheKey(target(), CLIENT, { popClaimU: "x" }, [])[1]).toBe("pop u=x");
  });

  test("an unknown --environment is the plan's warning, with PoP too", async () => {
    const argv = [...ids, "--client-secret", SECRET, "--environment", "AzureMoonCloud"];
    const plan = await planFor(argv);
    expect(plan.warnings.length).toBeGreaterThan(0);
    expect(plan.warnings).toEqual(entraTarget(optionsFor(argv)).warnings);
    expect((await planFor([...argv, "--pop-enabled", "--pop-claims", `u=${U}`])).warnings).toEqual(plan.warnings);
  });
});

describe("against the fake Entra ID", () => {
  const args = (cacheDir: string, extra: string[]): string[] => [
    "get-token", "-l", "spn", "--server-id", SERVER_ID, "--tenant-id", TENANT, "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra,
  ];
  const newCacheDir = (): Promise<string> => mkdtemp(join(dir, "cache-"));

  test("-v 5 names the credential and the scopes asked for", async () => {
    const pem = join(dir, "v5.pem");
    await writeFile(pem, `${certApp.keyPkcs8Pem}${certApp.certPem}`);
    const secretRun = testRuntime();
    expect(await run(args(await newCacheDir(), ["--client-id", CLIENT, "--client-secret", SECRET, "-v", "5"]), secretRun)).toBe(0);
    expect(secretRun.stderr.text()).toContain("using credential: ClientSecretCredential\n");
    expect(secretRun.stderr.text()).toContain(`getting token with scopes: [${SERVER_ID}/.default]\n`);
    const certRun = testRuntime();
    expect(await run(args(await newCacheDir(), ["--client-id", CERT_CLIENT, "--client-certificate", pem, "-v", "5"]), certRun)).toBe(0);
    expect(certRun.stderr.text()).toContain("using credential: ClientCertificateCredential\n");
  });

  test("PoP: the request binds the key, the answer is an envelope; a refused one says which credential, in upstream's words", async () => {
    const mark = entra.requests.length;
    const rt = testRuntime();
    const pop = ["--pop-enabled", "--pop-claims", `u=${U}`];
    expect(await run(args(await newCacheDir(), ["--client-id", CLIENT, "--client-secret", SECRET, "-v", "5", ...pop]), rt), rt.stderr.text()).toBe(0);
    expect(rt.stderr.text()).toContain("using credential: ClientSecretCredentialWithPoP\n");
    const request = entra.requests.slice(mark).find((r) => r.form.grant_type === "client_credentials")!;
    expect(request.form.token_type).toBe("pop");
    const kid = (JSON.parse(Buffer.from(request.form.req_cnf!, "base64url").toString("utf8")) as { kid: string }).kid;
    const envelope = (JSON.parse(rt.stdout.text()) as { status: { token: string } }).status.token;
    const payload = JSON.parse(Buffer.from(envelope.split(".")[1]!, "base64url").toString("utf8")) as { at: string; u: string; cnf: { jwk: unknown } };
    expect(payload.u).toBe(U);
    expect(JSON.parse(Buffer.from(payload.at.split(".")[1]!, "base64url").toString("utf8"))).toMatchObject({ cnf: { kid } });

    const refused = testRuntime();
    expect(await run(args(await newCacheDir(), ["--client-id", CLIENT, "--client-secret", "wrong-secret", ...pop]), refused)).toBe(1);
    expect(refused.stderr.text().split("\n")[0]).toMatch(
      /^Error: failed to get token: failed to create PoP token using client secret credential: failed to create service principal PoP token using credential: invalid_client: AADSTS7000215: /,
    );
    const other = createClientCertificate("not-registered");
    const pem = join(dir, "unregistered.pem");
    await writeFile(pem, `${other.keyPkcs8Pem}${other.certPem}`);
    const refusedCertificate = testRuntime();
    expect(await run(args(await newCacheDir(), ["--client-id", CERT_CLIENT, "--client-certificate", pem, ...pop]), refusedCertificate)).toBe(1);
    expect(refusedCertificate.stderr.text().split("\n")[0]).toMatch(/^Error: failed to get token: failed to create PoP token using client certificate credential: failed to create service principal PoP token using credential: /);
    expect(refusedCertificate.stderr.text().split("\n")[1]).toBe(
      `hint: the client certificate was rejected; check that --client-certificate is the one registered for app ${CERT_CLIENT} and has not expired`,
    );
  });

  test("an answer without an access token is an error, not an empty token", async () => {
    entra.failNext(200, { token_type: "Bearer", expires_in: 3600, access_token: "" });
    const rt = testRuntime();
    expect(await run(args(await newCacheDir(), ["--client-id", CLIENT, "--client-secret", SECRET]), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to get token: the identity provider returned no access token");
    expect(rt.stdout.text()).toBe("");
  });

  test("-v 5 names the legacy credentials", async () => {
    const pem = join(dir, "legacy-v5.pem");
    await writeFile(pem, `${certApp.keyPkcs8Pem}${certApp.certPem}`);
    const secretRun = testRuntime();
    expect(await run(args(await newCacheDir(), ["--client-id", CLIENT, "--client-secret", SECRET, "--legacy", "-v", "5"]), secretRun), secretRun.stderr.text()).toBe(0);
    expect(secretRun.stderr.text()).toContain("using credential: ADALClientSecretCredential\n");
    const certRun = testRuntime();
    expect(await run(args(await newCacheDir(), ["--client-id", CERT_CLIENT, "--client-certificate", pem, "--legacy", "-v", "5"]), certRun), certRun.stderr.text()).toBe(0);
    expect(certRun.stderr.text()).toContain("using credential: ADALClientCertCredential\n");
  });

  test("--timeout while Entra holds the answer is the timeout, not a network error", async () => {
    const held = entra.holdTokenResponses(CLIENT);
    const rt = testRuntime();
    const exit = run(args(await newCacheDir(), ["--client-id", CLIENT, "--client-secret", SECRET, "--timeout", "1s"]), rt);
    await held.arrived;
    expect(await exit).toBe(1);
    held.release();
    expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to get token: context deadline exceeded");
  });

  describe("the certificate read at token time, after the plan stat()ed it", () => {
    /** get-token with spn, where the file is swapped right after the plan made under the lock (the one the login uses). */
    async function swappedBeforeLogin(swap: (pem: string) => Promise<void>): Promise<string> {
      const pem = join(await mkdtemp(join(dir, "swap-")), "sp.pem");
      await writeFile(pem, `${certApp.keyPkcs8Pem}${certApp.certPem}`);
      let plans = 0;
      const swapping: LoginStrategy = {
        mode: "spn",
        plan: async (o, context) => {
          const plan = await spn.plan(o, context);
          if (++plans === 2) await swap(pem);
          return plan;
        },
      };
      const rt = testRuntime();
      const argv = ["--server-id", SERVER_ID, "--tenant-id", TENANT, "--authority-host", entra.url, "--cache-dir", await newCacheDir(), "-l", "spn", "--client-id", CERT_CLIENT, "--client-certificate", pem];
      const { options, provenance } = resolveOptions(parseFlags(argv, GET_TOKEN_OPTIONS), rt.env, rt.homedir);
      const error = await getToken({ options: validateOptions(options, provenance), provenance }, { rt, log: rt.logger(0), strategyFor: async () => swapping }).then(
        () => expect.unreachable("the login should have failed"),
        (err: unknown) => err as Error,
      );
      expect(error).toBeInstanceOf(CertificateError);
      expect((error as CertificateError).hint).toBe("check --client-certificate (or AZURE_CLIENT_CERTIFICATE_PATH / AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE)");
      return error.message.replaceAll(pem, "PEM");
    }

    test("removed: Go's open error", async () => {
      expect(await swappedBeforeLogin((pem) => unlink(pem))).toBe(
        "failed to create azidentity credential: failed to read certificate: failed to read the certificate file (PEM): open PEM: no such file or directory",
      );
    });

    test("replaced by a FIFO: refused once open, without blocking", async () => {
      const message = await swappedBeforeLogin(async (pem) => {
        await unlink(pem);
        execFileSync("mkfifo", [pem]);
      });
      expect(message).toBe("failed to create azidentity credential: failed to read certificate: failed to read the certificate file (PEM): read PEM: not a regular file");
    });

  });
});
