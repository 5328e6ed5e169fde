// MSAL and Entra errors in kubelogin's words, text for text: every hint of the catalogue, the
// " (set by VAR)" note when the environment supplied the option, the AADSTS and ids extraction at
// the edges of Entra's trailers, and the authority diagnosis behind MSAL's "endpoints cannot be
// resolved" (its probe answered through the run's fetch seam).
import { describe, expect, test } from "vitest";
import { AuthenticationError, KubeloginError, NetworkError, ValidationError } from "../../../src/errors.js";
import { extractAadsts, extractEntraIds, fromMsalError, hintFor, msalErrorContext, type MsalErrorContext } from "../../../src/login/msal/errors.js";
import { DEFAULT_ORIGIN, type Origin } from "../../../src/options/origin.js";
import type { Provenance } from "../../../src/options/resolve.js";

const env = (name: string): Origin => ({ kind: "env", name });
const fromEnv = new Proxy({} as Provenance, {
  get: (_target, key) =>
    ({
      clientId: env("AZURE_CLIENT_ID"),
      tenantId: env("AZURE_TENANT_ID"),
      serverId: env("AAD_SERVER_ID"),
      username: env("AZURE_USERNAME"),
      clientSecret: env("AZURE_CLIENT_SECRET"),
      clientCertificate: env("AZURE_CLIENT_CERTIFICATE_PATH"),
      password: env("AZURE_PASSWORD"),
      federatedTokenFile: env("AZURE_FEDERATED_TOKEN_FILE"),
    })[key as string] ?? DEFAULT_ORIGIN,
});
const fromFlags = new Proxy({} as Provenance, { get: () => ({ kind: "flag", flag: "--x" }) });

const AUTHORITY = "https://login.example.com/tenant";
const context = (credential: MsalErrorContext["credential"], provenance: Provenance = fromFlags, fetch: typeof globalThis.fetch = () => Promise.reject(new Error("no request expected"))): MsalErrorContext => ({
  authority: AUTHORITY,
  clientId: "app-id",
  tenantId: "tenant",
  provenance,
  ...(credential ? { credential } : {}),
  fetch,
  signal: new AbortController().signal,
});

describe("hintFor, word for word", () => {
  test.each([
    ["7000215", "clientSecret", "the client secret was rejected; check --client-secret (set by AZURE_CLIENT_SECRET): it must be the secret's value, not its ID"],
    ["7000215", undefined, "the client credential was rejected; check the credential"],
    ["7000222", "clientSecret", "the client secret of app app-id has expired; create a new one and update --client-secret (set by AZURE_CLIENT_SECRET)"],
    ["700016", undefined, "no app app-id in tenant tenant; check --client-id (set by AZURE_CLIENT_ID) and --tenant-id (set by AZURE_TENANT_ID)"],
    ["90002", undefined, 'tenant "tenant" does not exist in this cloud; check --tenant-id (set by AZURE_TENANT_ID) and --environment / --authority-host'],
    ["900023", undefined, 'tenant "tenant" does not exist in this cloud; check --tenant-id (set by AZURE_TENANT_ID) and --environment / --authority-host'],
    ["700027", "clientCertificate", "the client certificate was rejected; check that --client-certificate (set by AZURE_CLIENT_CERTIFICATE_PATH) is the one registered for app app-id and has not expired"],
    ["700023", "clientCertificate", "the client certificate was rejected; check that --client-certificate (set by AZURE_CLIENT_CERTIFICATE_PATH) is the one registered for app app-id and has not expired"],
    ["700024", "federatedTokenFile", "the federated token has expired; check that --federated-token-file (set by AZURE_FEDERATED_TOKEN_FILE) is being refreshed"],
    ["700024", "clientCertificate", "the signed client assertion is outside its valid time range; check this machine's clock"],
    ["50126", "password", "the user name or password was rejected; check --username (set by AZURE_USERNAME) and --password (set by AZURE_PASSWORD)"],
    ["50020", undefined, "the signed-in account is not a member or guest of tenant tenant; sign in with an account of that tenant, have it invited as a guest, or check --tenant-id (set by AZURE_TENANT_ID)"],
    ["50076", "password", "this account needs multi-factor authentication, which --login ropc cannot do; use --login devicecode or interactive"],
    ["50079", undefined, "this account needs multi-factor authentication; sign in again with --login devicecode or interactive and complete it"],
    ["53003", "password", "a Conditional Access policy blocked this sign-in, which --login ropc cannot satisfy; use --login devicecode or interactive"],
    ["53003", undefined, "a Conditional Access policy blocked this sign-in (device, location or app not allowed); ask the tenant's administrator which policy applies, with the trace id below"],
    ["65001", undefined, "app app-id has not been granted consent in tenant tenant; an administrator must grant it"],
    ["500011", undefined, "no resource (API) matches --server-id (set by AAD_SERVER_ID) in tenant tenant; check it: for AKS with Entra ID it is 6dae42f8-4368-4678-94ff-3960e28e3630"],
    ["50001", undefined, "no resource (API) matches --server-id (set by AAD_SERVER_ID) in tenant tenant; check it: for AKS with Entra ID it is 6dae42f8-4368-4678-94ff-3960e28e3630"],
    ["650057", undefined, "no resource (API) matches --server-id (set by AAD_SERVER_ID) in tenant tenant; check it: for AKS with Entra ID it is 6dae42f8-4368-4678-94ff-3960e28e3630"],
    ["70043", undefined, "the saved sign-in has expired or was revoked; sign in again (kubelogin remove-cache-dir clears it)"],
    ["700082", undefined, "the saved sign-in has expired or was revoked; sign in again (kubelogin remove-cache-dir clears it)"],
    ["50173", undefined, "the saved sign-in has expired or was revoked; sign in again (kubelogin remove-cache-dir clears it)"],
  ] as const)("AADSTS%s with %s, every option from the environment", (code, credential, hint) => {
    expect(hintFor(code, context(credential, fromEnv))).toBe(hint);
  });

  test("an option the provenance does not know gets no note", () => {
    expect(hintFor("700016", { ...context(undefined), provenance: {} as Provenance })).toBe("no app app-id in tenant tenant; check --client-id and --tenant-id");
  });

  test("options from flags get no note", () => {
    expect(hintFor("700016", context(undefined))).toBe("no app app-id in tenant tenant; check --client-id and --tenant-id");
    expect(hintFor("7000222", context("clientSecret"))).toBe("the client secret of app app-id has expired; create a new one and update --client-secret");
  });
});

describe("msalErrorContext", () => {
  test("where the request went, for whom, with which credential and which fetch and signal", () => {
    const fetch: typeof globalThis.fetch = () => Promise.reject(new Error("unused"));
    const signal = new AbortController().signal;
    const deps = { provenance: fromFlags, rt: { fetch }, signal } as unknown as Parameters<typeof msalErrorContext>[2];
    const target = { authorityHost: "https://login.example.com/", tenantId: "tenant" };
    const made = msalErrorContext(target, "app-id", deps, "password");
    expect({ ...made, provenance: undefined }).toEqual({ authority: AUTHORITY, clientId: "app-id", tenantId: "tenant", provenance: undefined, credential: "password", fetch, signal });
    expect(made.provenance).toBe(fromFlags);
    expect(Object.keys(msalErrorContext(target, "app-id", deps))).toEqual(["authority", "clientId", "tenantId", "provenance", "fetch", "signal"]);
  });
});

describe("extractAadsts and extractEntraIds at the edges of Entra's trailers", () => {
  test.each([
    ["AADSTS50126: Error validating credentials. Trace ID: 1 Correlation ID: 2", "AADSTS50126: Error validating credentials."],
    ["AADSTS50126: Error validating credentials.\r\nTrace ID: 1", "AADSTS50126: Error validating credentials."],
    ["AADSTS50126: first line\nsecond line", "AADSTS50126: first line"],
    ["AADSTS50126:   spaced out   - Correlation ID: 2", "AADSTS50126: spaced out"],
    ["AADSTS50126: until Timestamp: 2026", "AADSTS50126: until"],
    ["AADSTS50126: all of it", "AADSTS50126: all of it"],
    ["AADSTS50126:abc def", "AADSTS50126: abc def"],
    ["AADSTS50126: desc. -  Correlation ID: 2", "AADSTS50126: desc."],
    ["AADSTS50126: trailing   \nmore", "AADSTS50126: trailing"],
  ])("%j", (text, description) => {
    expect(extractAadsts(text)).toEqual({ code: "50126", description });
  });

  test("no AADSTS code, or none followed by a colon, is nothing", () => {
    expect(extractAadsts("invalid_grant: no code")).toBeUndefined();
    expect(extractAadsts("AADSTS: no digits")).toBeUndefined();
  });

  test("ids: both from the text; a short value is not an id; MSAL's id only when the text has none, and never an empty one", () => {
    expect(extractEntraIds("Trace ID: 0a1b2c3d-aaaa Correlation ID:0b1c2d3e-bbbb", "ffffffff-msal")).toEqual({ traceId: "0a1b2c3d-aaaa", correlationId: "0b1c2d3e-bbbb" });
    expect(extractEntraIds("Trace ID: abc Correlation ID: def")).toEqual({ traceId: undefined, correlationId: undefined });
    expect(extractEntraIds("Trace ID:0a1b2c3d-cccc")).toEqual({ traceId: "0a1b2c3d-cccc", correlationId: undefined });
    expect(extractEntraIds("nothing", "")).toEqual({ traceId: undefined, correlationId: undefined });
  });
});

describe("fromMsalError", () => {
  test("kubelogin's own error passes through as it is", async () => {
    const own = new NetworkError("already worded", { hint: "h" });
    expect(await fromMsalError(own, context(undefined))).toBe(own);
  });

  test("an AADSTS text without an error code has no code prefix; errorMessage wins over message, message over the string", async () => {
    const noCode = await fromMsalError({ errorMessage: "AADSTS65001: The user or administrator has not consented." }, context(undefined));
    expect([noCode.message, noCode.hint]).toEqual(["AADSTS65001: The user or administrator has not consented.", "app app-id has not been granted consent in tenant tenant; an administrator must grant it"]);
    const fromMessage = await fromMsalError({ errorCode: "invalid_grant", errorMessage: "", message: "AADSTS70043: The refresh token has expired." }, context(undefined));
    expect(fromMessage.message).toBe("invalid_grant: AADSTS70043: The refresh token has expired.");
    const fromString = await fromMsalError("AADSTS50173: The provided grant has expired.", context(undefined));
    expect(fromString.message).toBe("AADSTS50173: The provided grant has expired.");
  });

  test("an error without an AADSTS code is its text on one line, the cause kept", async () => {
    const err = { errorCode: "something_else", errorMessage: "  first\r\n  second \n third  " };
    const error = await fromMsalError(err, context(undefined));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect([error.message, error.hint, error.cause]).toEqual(["first second third", undefined, err]);
    expect((await fromMsalError(null, context(undefined))).message).toBe("null");
    expect((await fromMsalError({ errorMessage: "one\ntwo" }, context(undefined))).message).toBe("one two");
    // msal-node passes on a refused poll's `error` value as it came, text or not.
    expect((await fromMsalError({ errorCode: "post_request_failed", errorMessage: 5 as unknown as string }, context(undefined))).message).toBe("5");
  });

  test("an http authority and a service principal without a tenant are the options' fault", async () => {
    const insecure = await fromMsalError({ errorCode: "authority_uri_insecure" }, context(undefined));
    expect(insecure).toBeInstanceOf(ValidationError);
    expect([insecure.message, insecure.hint]).toEqual(['authority host "https://login.example.com/" must use https', "use an https:// URL in --authority-host"]);
    const noTenant = await fromMsalError({ errorCode: "missing_tenant_id_error" }, context(undefined, fromEnv));
    expect(noTenant).toBeInstanceOf(ValidationError);
    expect([noTenant.message, noTenant.hint]).toEqual(['a service principal needs its own tenant, not "tenant"', "pass the directory (tenant) ID with --tenant-id (set by AZURE_TENANT_ID)"]);
  });
});

describe("the authority diagnosis behind MSAL's endpoint errors", () => {
  const PROBE = `${AUTHORITY}/v2.0/.well-known/openid-configuration`;
  const answering = (status: number, body: string, seen: { url?: string; signal?: AbortSignal | undefined } = {}): typeof fetch => async (input, init) => {
    seen.url = String(input);
    seen.signal = init?.signal ?? undefined;
    return new Response(body, { status });
  };

  test.each(["network_error", "endpoints_resolution_error", "openid_config_error"])("%s: Entra's own error for an unknown tenant, with its hint and ids", async (code) => {
    const seen: { url?: string; signal?: AbortSignal | undefined } = {};
    const body = JSON.stringify({
      error: "invalid_tenant",
      error_description: "AADSTS90002: Tenant 'tenant' not found. Trace ID: 0a1b2c3d-0000-4000-8000-000000000001 Correlation ID: 0a1b2c3d-0000-4000-8000-000000000002",
    });
    const original = { errorCode: code };
    const error = await fromMsalError(original, context(undefined, fromFlags, answering(400, body, seen)));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect([error.message, error.hint, error.cause]).toEqual([
      "invalid_tenant: AADSTS90002: Tenant 'tenant' not found.",
      'tenant "tenant" does not exist in this cloud; check --tenant-id and --environment / --authority-host',
      original,
    ]);
    expect((error as AuthenticationError).traceIds).toEqual({ traceId: "0a1b2c3d-0000-4000-8000-000000000001", correlationId: "0a1b2c3d-0000-4000-8000-000000000002" });
    expect(seen.url).toBe(PROBE);
    expect(seen.signal?.aborted).toBe(false);
  });

  test("without an error code the answer is an invalid request; the body's correlation id is used when the text has none", async () => {
    const body = JSON.stringify({ error_description: "AADSTS90002: Tenant 'tenant' not found.", correlation_id: "c0ffee00-0000-4000-8000-000000000000" });
    const error = (await fromMsalError({ errorCode: "network_error" }, context(undefined, fromFlags, answering(400, body)))) as AuthenticationError;
    expect(error.message).toBe("invalid_request: AADSTS90002: Tenant 'tenant' not found.");
    expect(error.traceIds).toEqual({ traceId: undefined, correlationId: "c0ffee00-0000-4000-8000-000000000000" });
  });

  test.each([
    [404, "<html>not here</html>"],
    [200, JSON.stringify({ issuer: "x" })],
    [400, JSON.stringify({ error: "invalid_request", error_description: "no code in here" })],
  ])("an answer (%s) without Entra's AADSTS words is reported by its status", async (status, body) => {
    const original = { errorCode: "network_error" };
    const error = await fromMsalError(original, context(undefined, fromFlags, answering(status, body)));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect([error.message, error.hint, error.cause]).toEqual([`the authority ${AUTHORITY} answered ${status} to ${PROBE}`, "check --tenant-id, --environment and --authority-host", original]);
  });

  test("a body that cannot be read is reported by its status", async () => {
    const broken: typeof fetch = async () => new Response(new ReadableStream({ start: (controller) => controller.error(new Error("reset")) }), { status: 502 });
    const error = await fromMsalError({ errorCode: "network_error" }, context(undefined, fromFlags, broken));
    expect(error.message).toBe(`the authority ${AUTHORITY} answered 502 to ${PROBE}`);
  });

  test("a probe that cannot connect is the network's error; after the run was aborted it is the abort's reason", async () => {
    const refused: typeof fetch = () => Promise.reject(new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } }));
    const error = await fromMsalError({ errorCode: "network_error" }, context(undefined, fromFlags, refused));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toBe("could not reach the identity provider at https://login.example.com: ECONNREFUSED");

    const controller = new AbortController();
    const reason = new KubeloginError("timed out");
    controller.abort(reason);
    const aborted = { ...context(undefined, fromFlags, refused), signal: controller.signal };
    await expect(fromMsalError({ errorCode: "network_error" }, aborted)).rejects.toBe(reason);
    // The probe itself is cancelled by the run's signal.
    const honouring: typeof fetch = async (_input, init) => {
      if (init?.signal?.aborted) throw init.signal.reason;
      return new Response("{}", { status: 200 });
    };
    await expect(fromMsalError({ errorCode: "network_error" }, { ...context(undefined, fromFlags, honouring), signal: controller.signal })).rejects.toBe(reason);
  });
});
