// msi at its edges: each source's exact request, the cache key of each identity, the endpoint
// checks, every shape of answer an identity endpoint may give (token bodies, the error bodies of
// each API, text that is not JSON) and how each is worded, the dates App Service sends, and the
// -v 5 lines. Answers come from a loopback HTTP peer that replies as the test says.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { run } from "../../src/cli/run.js";
import { getToken } from "../../src/exec/get-token.js";
import { detectSource, expiryOf, managedIdFor, managedIdentity, msi, msiResource, tokenRequest, type ManagedId } from "../../src/login/msi.js";
import type { PlanContext } from "../../src/login/types.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions, type Env } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import { startHttpFake, type HttpFake, type HttpReply, type HttpRequestRecord } from "../fakes/http-fake.js";
import { refusingPort } from "../support/refusing-port.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const CLIENT = "5a5a5a5a-0000-4000-8000-000000000031";
const RESOURCE_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mut";
const SYSTEM: ManagedId = { kind: "system" };
const FUTURE = Math.floor(Date.now() / 1000) + 3600;

let dir: string;
let peer: HttpFake;
let reply: HttpReply | ((request: HttpRequestRecord) => HttpReply) = { status: 500, body: "" };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-msi-mutants-"));
  peer = await startHttpFake((request) => (typeof reply === "function" ? reply(request) : reply));
});
afterAll(async () => {
  await peer.close();
  await rm(dir, { recursive: true, force: true });
});

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(dir, "cache-"));
});

const argv = (...extra: string[]): string[] => ["get-token", "-l", "msi", "--server-id", SERVER_ID, "--cache-dir", cacheDir, ...extra];
const imdsEnv = (): Env => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: peer.origin });

/** One get-token against the peer answering `answer`: exit code and stderr lines. */
async function against(answer: HttpReply, env: Env = imdsEnv(), ...extra: string[]): Promise<{ code: number; lines: string[]; stdout: string }> {
  reply = answer;
  const rt = testRuntime({ env, now: Date.now() });
  const code = await run(argv(...extra), rt);
  return { code, lines: rt.stderr.text().split("\n"), stdout: rt.stdout.text() };
}

const tokenOf = (out: string): { token: string; expirationTimestamp: string } => (JSON.parse(out) as { status: { token: string; expirationTimestamp: string } }).status;

describe("the token answer", () => {
  test("201 is a success as 200 is", async () => {
    const { code, stdout } = await against({ status: 201, body: { access_token: "created-token", expires_on: String(FUTURE) } });
    expect(code).toBe(0);
    expect(tokenOf(stdout).token).toBe("created-token");
    expect(tokenOf(stdout).expirationTimestamp).toBe(new Date(FUTURE * 1000).toISOString().replace(".000Z", "Z"));
  });

  test("a 200 whose body is not JSON names the source and the status", async () => {
    const { code, lines } = await against({ status: 200, body: "<html>" });
    expect(code).toBe(1);
    expect(lines[0]).toBe("Error: failed to get token: ManagedIdentityCredential authentication failed. The imds endpoint answered 200 with a body that is not JSON");
  });

  test.each([
    ["no access_token", { expires_on: String(FUTURE) }],
    ["an empty access_token", { access_token: "", expires_on: String(FUTURE) }],
    ["an access_token that is not text", { access_token: 7, expires_on: String(FUTURE) }],
  ])("%s is refused", async (_name, body) => {
    const { code, lines } = await against({ status: 200, body });
    expect(code).toBe(1);
    expect(lines[0]).toBe("Error: failed to get token: ManagedIdentityCredential authentication failed. The response has no access_token");
  });

  test("an expiry it cannot read is named", async () => {
    const { code, lines } = await against({ status: 200, body: { access_token: "t", expires_on: "soon" } });
    expect(code).toBe(1);
    expect(lines[0]).toBe("Error: failed to get token: ManagedIdentityCredential authentication failed. unexpected expires_on value: soon");
  });
});

describe("error answers", () => {
  test("IMDS's 400 for a system-assigned identity carries the endpoint's text and the hint", async () => {
    const { code, lines } = await against({ status: 400, body: "identity not found" });
    expect(code).toBe(1);
    expect(lines).toEqual([
      "Error: failed to get token: ManagedIdentityCredential: failed to authenticate a system assigned identity. The endpoint responded with identity not found",
      "hint: enable the system-assigned identity of this VM, or pass --client-id of a user-assigned one",
      "",
    ]);
  });

  test("IMDS's empty 400 for a system-assigned identity says only that it failed", async () => {
    const { lines } = await against({ status: 400, body: "" });
    expect(lines[0]).toBe("Error: failed to get token: ManagedIdentityCredential: failed to authenticate a system assigned identity");
  });

  test("IMDS's 400 for a user-assigned identity names it in the hint", async () => {
    const { lines } = await against({ status: 400, body: { error: "invalid_request", error_description: "Identity not found" } }, imdsEnv(), "--client-id", CLIENT);
    expect(lines).toEqual([
      "Error: failed to get token: ManagedIdentityCredential: the requested identity isn't assigned to this resource",
      `hint: assign the identity ${CLIENT} to this VM or pod, or check --client-id / --identity-resource-id (and AZURE_CLIENT_ID, which turns a system-assigned request into a user-assigned one)`,
      "",
    ]);
  });

  test("another IMDS status is the generic failure with OAuth's code, description and ids, on one line", async () => {
    const { lines } = await against({ status: 403, body: { error: "forbidden", error_description: "not\r\n  here", trace_id: "t-1", correlation_id: "c-1" } });
    expect(lines).toEqual([
      "Error: failed to get token: ManagedIdentityCredential authentication failed. The imds endpoint answered 403: forbidden: not here",
      "trace id: t-1, correlation id: c-1",
      "",
    ]);
  });

  test("App Service's { message, correlationId } and Service Fabric's nested { error: { code, message, correlationId } }", async () => {
    const env = { IDENTITY_ENDPOINT: `${peer.origin}/msi/token`, IDENTITY_HEADER: "h" };
    const flat = await against({ status: 500, body: { statusCode: 500, message: "it broke\nbadly", correlationId: "c-2" } }, env, "--timeout", "1s");
    expect(flat.lines).toEqual(["Error: failed to get token: ManagedIdentityCredential authentication failed. The appService endpoint answered 500: it broke badly", "trace id: none, correlation id: c-2", ""]);
    cacheDir = await mkdtemp(join(dir, "cache-"));
    const nested = await against({ status: 401, body: { error: { code: "Nope", message: "no\n secret", correlationId: "c-3" }, trace_id: "ignored" } }, env);
    expect(nested.lines).toEqual(["Error: failed to get token: ManagedIdentityCredential authentication failed. The appService endpoint answered 401: Nope: no secret", "trace id: none, correlation id: c-3", ""]);
  });

  test("an error body that is not JSON is shown as text: its first 200 characters, on one line, and no ids line", async () => {
    const env = { IDENTITY_ENDPOINT: `${peer.origin}/msi/token`, IDENTITY_HEADER: "h" };
    const long = `first line\r\n   second ${"x".repeat(300)}`;
    const { lines } = await against({ status: 401, body: long }, env);
    expect(lines).toEqual([`Error: failed to get token: ManagedIdentityCredential authentication failed. The appService endpoint answered 401: first line second ${"x".repeat(200 - 22)}`, ""]);
  });

  test.each([
    ["JSON null", "null"],
    ["a JSON string", '"busy"'],
    ["an empty body", ""],
  ])("%s as an error body", async (_name, body) => {
    const env = { IDENTITY_ENDPOINT: `${peer.origin}/msi/token`, IDENTITY_HEADER: "h" };
    const { lines } = await against({ status: 401, body }, env);
    expect(lines[0]).toBe(`Error: failed to get token: ManagedIdentityCredential authentication failed. The appService endpoint answered 401${body ? `: ${body}` : ""}`);
  });

  test("an OAuth error with an empty description falls back to message; a non-text code is left out", async () => {
    const env = { IDENTITY_ENDPOINT: `${peer.origin}/msi/token`, IDENTITY_HEADER: "h" };
    const { lines } = await against({ status: 401, body: { error: 42, error_description: "", message: "from message", correlation_id: "", correlationId: "c-4" } }, env);
    expect(lines).toEqual(["Error: failed to get token: ManagedIdentityCredential authentication failed. The appService endpoint answered 401: from message", "trace id: none, correlation id: c-4", ""]);
  });

  test("Entra's refusal relayed without an OAuth code: its words alone; the tenant and client named in the hint", async () => {
    const description =
      "AADSTS700016: Application with identifier 'x' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant. \r\nTrace ID: 3f5a1c7e-8b2d-4e3f-9a1b-2c3d4e5f6a7b\r\nCorrelation ID: 9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    const { lines } = await against({ status: 400, body: { error_description: description, trace_id: "t-body" } }, imdsEnv(), "--client-id", CLIENT);
    expect(lines[0]).toBe(
      "Error: failed to get token: ManagedIdentityCredential authentication failed. AADSTS700016: Application with identifier 'x' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant.",
    );
    expect(lines.at(-2)).toBe("trace id: 3f5a1c7e-8b2d-4e3f-9a1b-2c3d4e5f6a7b, correlation id: 9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d");
  });

  test("Entra's AADSTS500011 names the tenant from its words in the hint; without ids in the text, the body's are used", async () => {
    const description = "AADSTS500011: The resource principal named api://x was not found in the tenant named Fabrikam. This can happen if the application has not been installed.";
    const { lines } = await against({ status: 400, body: { error: "invalid_resource", error_description: description, trace_id: "t-6", correlation_id: "c-6" } });
    expect(lines[0]).toBe(`Error: failed to get token: ManagedIdentityCredential authentication failed. invalid_resource: ${description}`);
    expect(lines[1]).toMatch(/^hint: no resource \(API\) matches --server-id in tenant Fabrikam;/);
    expect(lines.at(-2)).toBe("trace id: t-6, correlation id: c-6");
  });

  test("a description without an AADSTS code is not read as Entra's", async () => {
    const { lines } = await against({ status: 403, body: { error: "x", error_description: "AADSTS alone" } });
    expect(lines[0]).toBe("Error: failed to get token: ManagedIdentityCredential authentication failed. The imds endpoint answered 403: x: AADSTS alone");
  });
});

describe("endpoints that cannot be reached", () => {
  test("IMDS: named as IMDS, with the hint to run where a managed identity is", async () => {
    const refusing = await refusingPort();
    try {
      const rt = testRuntime({ env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${refusing.port}` }, now: Date.now() });
      expect(await run(argv("--timeout", "1s"), rt)).toBe(1);
      const [error, hint] = rt.stderr.text().split("\n");
      expect(error).toBe(`Error: failed to get token: could not reach IMDS at http://127.0.0.1:${refusing.port}: ECONNREFUSED`);
      expect(hint).toBe(
        `hint: nothing accepts connections at 127.0.0.1:${refusing.port}; --login msi needs an Azure VM, scale set, AKS node or container with a managed identity (or set AZURE_POD_IDENTITY_AUTHORITY_HOST)`,
      );
    } finally {
      await refusing.close();
    }
  });

  test("another source: named by its kind, with the hint naming the variables", async () => {
    const refusing = await refusingPort();
    try {
      const rt = testRuntime({ env: { MSI_ENDPOINT: `http://127.0.0.1:${refusing.port}/token` } });
      expect(await run(argv(), rt)).toBe(1);
      const [error, hint] = rt.stderr.text().split("\n");
      expect(error).toBe(`Error: failed to get token: could not reach the cloudShell managed identity endpoint at http://127.0.0.1:${refusing.port}: ECONNREFUSED`);
      expect(hint).toBe(
        `hint: nothing accepts connections at 127.0.0.1:${refusing.port}; check the managed identity variables (IDENTITY_ENDPOINT, IDENTITY_HEADER, MSI_ENDPOINT) this host sets`,
      );
    } finally {
      await refusing.close();
    }
  });
});

describe("-v 5", () => {
  test.each([
    [[] as string[], "system-assigned"],
    [["--client-id", CLIENT], `clientId ${CLIENT}`],
    [["--identity-resource-id", RESOURCE_ID], `resourceId ${RESOURCE_ID}`],
  ])("the credential and the source are logged (%j)", async (extra, identity) => {
    const { code, lines } = await against({ status: 200, body: { access_token: "t", expires_on: String(FUTURE) } }, imdsEnv(), "-v", "5", ...extra);
    expect(code).toBe(0);
    expect(lines).toContainEqual(expect.stringMatching(/using credential: ManagedIdentityCredential$/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`managed identity source: imds at ${peer.origin}/metadata/identity/oauth2/token, identity: ${identity.replace(/[/]/g, "\\/")}$`)));
  });
});

describe("source detection", () => {
  const user: ManagedId = { kind: "clientId", value: CLIENT };
  const byResource: ManagedId = { kind: "resourceId", value: RESOURCE_ID };

  test.each([
    ["IDENTITY_ENDPOINT (App Service)", { IDENTITY_ENDPOINT: "not a url", IDENTITY_HEADER: "h" }, "IDENTITY_ENDPOINT"],
    ["IDENTITY_ENDPOINT (Service Fabric)", { IDENTITY_ENDPOINT: "::", IDENTITY_HEADER: "h", IDENTITY_SERVER_THUMBPRINT: "AB" }, "IDENTITY_ENDPOINT"],
    ["IDENTITY_ENDPOINT (Azure Arc)", { IDENTITY_ENDPOINT: "", IMDS_ENDPOINT: "http://a" }, "IDENTITY_ENDPOINT"],
    ["MSI_ENDPOINT", { MSI_ENDPOINT: "nope" }, "MSI_ENDPOINT"],
    ["AZURE_POD_IDENTITY_AUTHORITY_HOST", { AZURE_POD_IDENTITY_AUTHORITY_HOST: "10.0.0.1" }, "AZURE_POD_IDENTITY_AUTHORITY_HOST"],
  ])("an endpoint that is not a URL is refused: %s", async (_name, env, name) => {
    const rt = testRuntime({ env });
    expect(await run(argv(), rt)).toBe(1);
    const value = (env as Record<string, string>)[name] + (name === "AZURE_POD_IDENTITY_AUTHORITY_HOST" ? "/metadata/identity/oauth2/token" : "");
    expect(rt.stderr.text().split("\n")).toEqual([
      `Error: failed to create azidentity credential: failed to create managed identity credential: ${name} ${JSON.stringify(value)} is not a valid URL`,
      `hint: fix or unset ${name}`,
      "",
    ]);
  });

  test("Azure ML takes a user-assigned identity by client ID only", async () => {
    const rt = testRuntime({ env: { MSI_ENDPOINT: "http://a/t", MSI_SECRET: "s" } });
    expect(await run(argv("--identity-resource-id", RESOURCE_ID), rt)).toBe(1);
    expect(rt.stderr.text().split("\n")).toEqual([
      "Error: failed to create azidentity credential: failed to create managed identity credential: the Azure ML API supports specifying a user-assigned managed identity by client ID only",
      "hint: pass --client-id instead of --identity-resource-id",
      "",
    ]);
    expect(detectSource({ MSI_ENDPOINT: "http://a/t", MSI_SECRET: "s" }, user)).toEqual({ kind: "azureMl", endpoint: "http://a/t", defaultClientId: "" });
  });

  test("the user-assigned refusals carry their hints", () => {
    expect(() => detectSource({ MSI_ENDPOINT: "http://a/t" }, byResource)).toThrow(expect.objectContaining({ hint: "drop --client-id / --identity-resource-id (and AZURE_CLIENT_ID) in Cloud Shell" }));
    expect(() => detectSource({ IDENTITY_ENDPOINT: "http://a/t", IMDS_ENDPOINT: "" }, byResource)).toThrow(
      expect.objectContaining({ hint: "drop --client-id / --identity-resource-id (and AZURE_CLIENT_ID): Azure Arc has only the machine's identity" }),
    );
    expect(() => detectSource({ IDENTITY_ENDPOINT: "http://a/t", IDENTITY_HEADER: "", IDENTITY_SERVER_THUMBPRINT: "" }, byResource)).toThrow(
      expect.objectContaining({ hint: "drop --client-id / --identity-resource-id (and AZURE_CLIENT_ID)" }),
    );
  });

  test("presence counts, not content; the full results", () => {
    expect(detectSource({ IDENTITY_ENDPOINT: "http://a/t", IDENTITY_HEADER: "" }, user)).toEqual({ kind: "appService", endpoint: "http://a/t" });
    expect(detectSource({ IDENTITY_ENDPOINT: "http://a/t", IDENTITY_HEADER: "", IDENTITY_SERVER_THUMBPRINT: "" }, SYSTEM)).toEqual({ kind: "serviceFabric", endpoint: "http://a/t", thumbprint: "" });
    expect(detectSource({ IDENTITY_ENDPOINT: "http://a/t", IMDS_ENDPOINT: "" }, SYSTEM)).toEqual({ kind: "azureArc", endpoint: "http://a/t" });
    expect(detectSource({ MSI_ENDPOINT: "http://a/t", MSI_SECRET: "", DEFAULT_IDENTITY_CLIENT_ID: "d" }, SYSTEM)).toEqual({ kind: "azureMl", endpoint: "http://a/t", defaultClientId: "d" });
    expect(detectSource({ MSI_ENDPOINT: "http://a/t" }, SYSTEM)).toEqual({ kind: "cloudShell", endpoint: "http://a/t" });
    // IDENTITY_ENDPOINT alone is no source: IMDS, and MSI_ENDPOINT is not looked at.
    expect(detectSource({ IDENTITY_ENDPOINT: "http://a/t", MSI_ENDPOINT: "http://b/t" }, user)).toEqual({ kind: "imds", endpoint: "http://169.254.169.254/metadata/identity/oauth2/token" });
    // An empty AZURE_POD_IDENTITY_AUTHORITY_HOST is no host; every trailing slash is dropped.
    expect(detectSource({ AZURE_POD_IDENTITY_AUTHORITY_HOST: "" }, SYSTEM).endpoint).toBe("http://169.254.169.254/metadata/identity/oauth2/token");
    expect(detectSource({ AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://h//" }, SYSTEM).endpoint).toBe("http://h/metadata/identity/oauth2/token");
    expect(detectSource({ AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://h/a/b" }, SYSTEM).endpoint).toBe("http://h/a/b/metadata/identity/oauth2/token");
    expect(managedIdFor({ clientId: "", identityResourceId: RESOURCE_ID })).toEqual({ kind: "resourceId", value: RESOURCE_ID });
    expect(msiResource(`${SERVER_ID}/.default`)).toBe(SERVER_ID);
  });
});

describe("the request of each source", () => {
  const env: Env = { IDENTITY_HEADER: "ih", MSI_SECRET: "ms" };
  const user: ManagedId = { kind: "clientId", value: CLIENT };
  const byResource: ManagedId = { kind: "resourceId", value: RESOURCE_ID };
  const r = encodeURIComponent(RESOURCE_ID);

  test("IMDS and App Service spell the resource id each its way", () => {
    expect(tokenRequest({ kind: "imds", endpoint: "http://i/t" }, byResource, "res", env)).toEqual({
      method: "GET",
      url: `http://i/t?api-version=2018-02-01&resource=res&msi_res_id=${r}`,
      headers: { Metadata: "true" },
    });
    expect(tokenRequest({ kind: "appService", endpoint: "http://a/t?x=1" }, byResource, "res", env)).toEqual({
      method: "GET",
      url: `http://a/t?x=1&api-version=2019-08-01&resource=res&mi_res_id=${r}`,
      headers: { "X-IDENTITY-HEADER": "ih" },
    });
    expect(tokenRequest({ kind: "appService", endpoint: "http://a/t" }, SYSTEM, "res", {}).headers).toEqual({ "X-IDENTITY-HEADER": "" });
  });

  test("Service Fabric, Azure Arc, Azure ML and Cloud Shell", () => {
    expect(tokenRequest({ kind: "serviceFabric", endpoint: "https://s/t", thumbprint: "AB" }, SYSTEM, "res", env)).toEqual({
      method: "GET",
      url: "https://s/t?api-version=2019-07-01-preview&resource=res",
      headers: { Secret: "ih" },
    });
    expect(tokenRequest({ kind: "serviceFabric", endpoint: "https://s/t", thumbprint: "AB" }, SYSTEM, "res", {}).headers).toEqual({ Secret: "" });
    expect(tokenRequest({ kind: "azureArc", endpoint: "http://c/t" }, SYSTEM, "res", env)).toEqual({ method: "GET", url: "http://c/t?api-version=2019-11-01&resource=res", headers: { Metadata: "true" } });
    expect(tokenRequest({ kind: "azureMl", endpoint: "http://m/t", defaultClientId: "d" }, user, "res", env)).toEqual({
      method: "GET",
      url: `http://m/t?api-version=2017-09-01&resource=res&clientid=${CLIENT}`,
      headers: { secret: "ms" },
    });
    expect(tokenRequest({ kind: "azureMl", endpoint: "http://m/t", defaultClientId: "d" }, SYSTEM, "res", {})).toEqual({
      method: "GET",
      url: "http://m/t?api-version=2017-09-01&resource=res&clientid=d",
      headers: { secret: "" },
    });
    expect(tokenRequest({ kind: "cloudShell", endpoint: "http://s/t" }, SYSTEM, "a b", env)).toEqual({
      method: "POST",
      url: "http://s/t",
      headers: { Metadata: "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: "resource=a+b",
    });
  });
});

describe("the plan", () => {
  function planFor(extra: readonly string[], env: Env) {
    const { options, provenance } = resolveOptions(parseFlags(["-l", "msi", "--server-id", `${SERVER_ID}/`, ...extra], GET_TOKEN_OPTIONS), env, "/home/test");
    const context: PlanContext = { env, homedir: "/home/test", cacheDir: dir, state: createFileStore({ dir, now: Date.now, owns: () => true }) };
    return msi.plan(validateOptions(options, provenance), context);
  }

  test("the cache key: source, endpoint, identity and resource; nothing read from files, no warnings", async () => {
    const system = await planFor([], { AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://h" });
    expect(system.cacheKey).toEqual(["msi", "imds", "http://h/metadata/identity/oauth2/token", "system", SERVER_ID]);
    expect(system.inputs).toEqual([]);
    expect(system.warnings).toEqual([]);
    expect((await planFor(["--client-id", CLIENT], {})).cacheKey).toEqual(["msi", "imds", "http://169.254.169.254/metadata/identity/oauth2/token", "clientId", CLIENT, SERVER_ID]);
    expect((await planFor(["--identity-resource-id", RESOURCE_ID], { IDENTITY_ENDPOINT: "http://s/t", IDENTITY_HEADER: "x" })).cacheKey).toEqual([
      "msi",
      "appService",
      "http://s/t",
      "resourceId",
      RESOURCE_ID,
      SERVER_ID,
    ]);
  });
});

describe("expires_on", () => {
  test.each([
    ["1/2/2030 3:04:05 PM +00:00", Date.UTC(2030, 0, 2, 15, 4, 5)],
    ["12/31/2030 12:00:00 PM +00:00", Date.UTC(2030, 11, 31, 12, 0, 0)],
    ["1/2/2030 12:30:00 AM +00:00", Date.UTC(2030, 0, 2, 0, 30, 0)],
    ["1/2/2030 11:59:59 AM +00:00", Date.UTC(2030, 0, 2, 11, 59, 59)],
    ["01/02/2030 15:04:05 +00:00", Date.UTC(2030, 0, 2, 15, 4, 5)],
  ])("App Service's date %s", (text, expected) => {
    expect(expiryOf({ expires_on: text }, 0)).toBe(expected);
  });

  test.each([
    ["x1/2/2030 3:04:05 PM +00:00"],
    ["1/2/2030 3:04:05 PM +00:00x"],
    ["1/2/2030 3:04:05 PM +01:00"],
    ["1900000000x"],
    ["x1900000000"],
  ])("%s is no date: expires_in is used", (text) => {
    expect(expiryOf({ expires_on: text, expires_in: 60 }, 1000)).toBe(61_000);
  });

  test("expires_in when expires_on is absent; refused when neither can be read", () => {
    expect(expiryOf({ expires_in: 0 }, 5)).toBe(5);
    expect(() => expiryOf({ expires_in: "soon" }, 0)).toThrow("ManagedIdentityCredential authentication failed. unexpected expires_on value: undefined");
    expect(() => expiryOf({}, 0)).toThrow("unexpected expires_on value: undefined");
    expect(() => expiryOf({ expires_on: true, expires_in: "Infinity" }, 0)).toThrow("unexpected expires_on value: true");
  });
});

describe("Azure Arc's challenge", () => {
  async function arcGetToken(answer: (request: HttpRequestRecord) => HttpReply): Promise<{ done: Promise<void>; rt: ReturnType<typeof testRuntime>; keyDir: string }> {
    reply = answer;
    const keyDir = join(dir, "arc-keys");
    await mkdir(keyDir, { recursive: true });
    const rt = testRuntime({ env: { IDENTITY_ENDPOINT: `${peer.origin}/arc/token`, IMDS_ENDPOINT: "http://127.0.0.1:9" } });
    const { options, provenance } = resolveOptions(parseFlags(["--login", "msi", "--server-id", SERVER_ID, "--cache-dir", cacheDir], GET_TOKEN_OPTIONS), rt.env, rt.homedir);
    const done = getToken({ options: validateOptions(options, provenance), provenance }, { rt, log: rt.logger(10), strategyFor: async () => managedIdentity({ arcKeyDir: keyDir }) });
    return { done, rt, keyDir };
  }

  test.each([
    ["no WWW-Authenticate header", undefined, "ManagedIdentityCredential: did not receive a value from WWW-Authenticate header"],
    ["an empty one", "", "ManagedIdentityCredential: did not receive a value from WWW-Authenticate header"],
    ["another scheme", "Bearer realm=/x.key", "ManagedIdentityCredential: unexpected WWW-Authenticate header from Azure Arc Managed Identity Endpoint"],
    ["a realm with text before it", "xBasic realm=/x.key", "ManagedIdentityCredential: unexpected WWW-Authenticate header from Azure Arc Managed Identity Endpoint"],
    ["an empty realm", "Basic realm=", "ManagedIdentityCredential: unexpected WWW-Authenticate header from Azure Arc Managed Identity Endpoint"],
  ])("a 401 with %s is refused", async (_name, header, text) => {
    const { done } = await arcGetToken(() => ({ status: 401, body: "{}", ...(header === undefined ? {} : { headers: { "WWW-Authenticate": header } }) }));
    await expect(done).rejects.toThrow(`failed to get token: ${text}`);
  });

  test("a key file that is not there is refused with the reason", async () => {
    let keyDir = "";
    const { done, keyDir: named } = await arcGetToken(() => ({ status: 401, body: "{}", headers: { "WWW-Authenticate": `Basic realm=${join(keyDir, "gone.key")}` } }));
    keyDir = named;
    await expect(done).rejects.toThrow(`failed to get token: ManagedIdentityCredential: invalid Azure Arc key file: ENOENT: no such file or directory, stat '${join(named, "gone.key")}'`);
  });

  test("the key is sent trimmed, never logged, and only to answer the challenge; a key of exactly 4096 bytes is read", async () => {
    const keyDir = join(dir, "arc-keys");
    await mkdir(keyDir, { recursive: true });
    const key = "k".repeat(4094);
    await writeFile(join(keyDir, "ok.key"), `${key}\n\n`);
    const { done, rt } = await arcGetToken((request) =>
      request.headers.authorization === undefined
        ? { status: 401, body: "{}", headers: { "WWW-Authenticate": `Basic realm=${join(keyDir, "ok.key")}` } }
        : { status: 200, body: { access_token: "arc-token", expires_on: String(FUTURE), auth: request.headers.authorization } },
    );
    await done;
    expect(tokenOf(rt.stdout.text()).token).toBe("arc-token");
    expect(peer.requests.at(-1)!.headers.authorization).toBe(`Basic ${key}`);
    expect(peer.requests.at(-1)!.headers.metadata).toBe("true");
    expect(rt.stderr.text()).not.toContain(key);
  });

  test("without a key directory of its own, the agent's is the only one", async () => {
    const env = { IDENTITY_ENDPOINT: `${peer.origin}/arc/token`, IMDS_ENDPOINT: "http://127.0.0.1:9" };
    const { lines } = await against({ status: 401, body: "{}", headers: { "WWW-Authenticate": `Basic realm=${join(dir, "x.key")}` } }, env);
    expect(lines[0]).toBe(`Error: failed to get token: ManagedIdentityCredential: invalid Azure Arc key file: ${join(dir, "x.key")} is not a .key file in /var/opt/azcmagent/tokens`);
  });

  test("a 401 from another source is no challenge", async () => {
    const { lines } = await against({ status: 401, body: { error: "unauthorized" }, headers: { "WWW-Authenticate": "Basic realm=/x.key" } });
    expect(lines[0]).toBe("Error: failed to get token: ManagedIdentityCredential authentication failed. The imds endpoint answered 401: unauthorized");
  });
});

describe("Service Fabric through a proxy that refuses the tunnel", () => {
  let proxy: Server;
  const connects: { url: string; authorization: string | undefined }[] = [];
  beforeAll(async () => {
    proxy = createServer();
    proxy.on("connect", (req, socket) => {
      connects.push({ url: req.url ?? "", authorization: req.headers["proxy-authorization"] });
      socket.end("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
    });
    await new Promise<void>((ready) => proxy.listen(0, "127.0.0.1", () => ready()));
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise<void>((done) => proxy.close(() => done()));
  });

  test("the proxy's credentials are sent decoded, and its answer is the error", async () => {
    const { port } = proxy.address() as AddressInfo;
    const env = { IDENTITY_ENDPOINT: "https://sf.mutants.test:2377/metadata/identity/oauth2/token", IDENTITY_HEADER: "h", IDENTITY_SERVER_THUMBPRINT: "AB", HTTPS_PROXY: `http://us%40r:p%3Ass@127.0.0.1:${port}` };
    const rt = testRuntime({ env });
    expect(await run(argv(), rt)).toBe(1);
    expect(connects.at(-1)).toEqual({ url: "sf.mutants.test:2377", authorization: `Basic ${Buffer.from("us@r:p:ss").toString("base64")}` });
    expect(rt.stderr.text().split("\n")[0]).toBe(
      `Error: failed to get token: could not reach the serviceFabric managed identity endpoint at https://sf.mutants.test:2377 through the proxy http://127.0.0.1:${port}: the proxy answered 407 to CONNECT sf.mutants.test:2377`,
    );
  });

  test("without credentials no Proxy-Authorization is sent; an IPv6 host is bracketed and the port defaults to 443", async () => {
    const { port } = proxy.address() as AddressInfo;
    const env = { IDENTITY_ENDPOINT: "https://[fd00::1]/token", IDENTITY_HEADER: "h", IDENTITY_SERVER_THUMBPRINT: "AB", HTTPS_PROXY: `127.0.0.1:${port}` };
    const rt = testRuntime({ env });
    expect(await run(argv(), rt)).toBe(1);
    expect(connects.at(-1)).toEqual({ url: "[fd00::1]:443", authorization: undefined });
  });
});
