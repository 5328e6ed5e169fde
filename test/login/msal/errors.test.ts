// MSAL and Entra errors → one sentence and a hint that names the flag (and the variable that set it)
// for the credential actually in use.
import { describe, expect, test } from "vitest";
import { AuthenticationError, NetworkError } from "../../../src/errors.js";
import { networkErrorFor } from "../../../src/login/http.js";
import { extractEntraIds, fromMsalError, hintFor, type MsalErrorContext } from "../../../src/login/msal/errors.js";
import { resolveOptions } from "../../../src/options/resolve.js";
import { parseFlags } from "../../../src/options/parse-flags.js";
import { GET_TOKEN_OPTIONS } from "../../../src/options/table.js";

const { provenance } = resolveOptions(parseFlags(["--client-secret", "x"], GET_TOKEN_OPTIONS), { AZURE_CLIENT_CERTIFICATE_PATH: "/c.pem" }, "/home/u");
const context = (credential: MsalErrorContext["credential"]): MsalErrorContext => ({
  authority: "https://login.microsoftonline.com/tenant",
  clientId: "app-id",
  tenantId: "tenant",
  provenance,
  ...(credential ? { credential } : {}),
  fetch: () => Promise.reject(new Error("no request expected")),
  signal: new AbortController().signal,
});

describe("hintFor", () => {
  test.each([
    ["7000215", "clientSecret", "the client secret was rejected; check --client-secret: it must be the secret's value, not its ID"],
    ["7000222", "clientSecret", "the client secret of app app-id has expired; create a new one and update --client-secret"],
    ["700027", "clientCertificate", "the client certificate was rejected; check that --client-certificate (set by AZURE_CLIENT_CERTIFICATE_PATH) is the one registered for app app-id and has not expired"],
    ["700024", "clientCertificate", "the signed client assertion is outside its valid time range; check this machine's clock"],
    ["700024", "federatedTokenFile", "the federated token has expired; check that --federated-token-file is being refreshed"],
    ["50126", "password", "the user name or password was rejected; check --username and --password"],
    ["50076", "password", "this account needs multi-factor authentication, which --login ropc cannot do; use --login devicecode or interactive"],
  ] as const)("AADSTS%s with the %s names what to fix", (code, credential, hint) => {
    expect(hintFor(code, context(credential))).toBe(hint);
  });

  // Issue 12's catalogue: each common code has a cause and a next step, whichever mode met it.
  test.each([
    ["7000215", "clientSecret", /client secret was rejected.*--client-secret/],
    ["7000222", "clientSecret", /has expired; create a new one/],
    ["700016", undefined, /^no app app-id in tenant tenant; check --client-id and --tenant-id$/],
    ["90002", undefined, /^tenant "tenant" does not exist in this cloud; check --tenant-id/],
    ["50020", "password", /not a member or guest of tenant tenant; .*--tenant-id/],
    ["50076", undefined, /multi-factor authentication; sign in again with --login devicecode or interactive/],
    ["50079", "password", /which --login ropc cannot do/],
    ["53003", undefined, /Conditional Access policy blocked this sign-in \(device, location or app not allowed\)/],
    ["53003", "password", /which --login ropc cannot satisfy; use --login devicecode or interactive$/],
    ["700024", "federatedTokenFile", /federated token has expired/],
    ["50173", undefined, /sign in again \(kubelogin remove-cache-dir clears it\)$/],
    ["700082", undefined, /sign in again/],
    ["70043", undefined, /sign in again/],
    ["50126", "password", /user name or password was rejected/],
    ["65001", undefined, /^app app-id has not been granted consent in tenant tenant; an administrator must grant it$/],
    ["500011", undefined, /--server-id.*6dae42f8-4368-4678-94ff-3960e28e3630/],
  ] as const)("catalogue: AADSTS%s (credential %s)", (code, credential, hint) => {
    expect(hintFor(code, context(credential))).toMatch(hint);
  });

  test("the error keeps Entra's AADSTS code and text, and adds the catalogue's hint", async () => {
    const text = "AADSTS50020: User account 'guest@fabrikam.com' from identity provider 'live.com' does not exist in tenant 'Contoso'. Trace ID: 0a0a0a0a-0000-4000-8000-000000000001 Correlation ID: 0b0b0b0b-0000-4000-8000-000000000002 Timestamp: 2031-01-01 00:00:00Z";
    const error = await fromMsalError({ errorCode: "invalid_grant", errorMessage: text }, context("password"));
    expect(error.message).toBe("invalid_grant: AADSTS50020: User account 'guest@fabrikam.com' from identity provider 'live.com' does not exist in tenant 'Contoso'.");
    expect(error.hint).toMatch(/not a member or guest of tenant tenant/);
  });

  test("a rejected credential never blames --client-secret when a certificate was used", () => {
    expect(hintFor("7000215", context("clientCertificate"))).toBe(
      "the client credential was rejected; check --client-certificate (set by AZURE_CLIENT_CERTIFICATE_PATH)",
    );
  });

  test("an unknown code gets no hint rather than a wrong one", () => {
    expect(hintFor("12345", context("clientSecret"))).toBeUndefined();
  });
});

describe("fromMsalError", () => {
  test("keeps the AADSTS text and Entra's ids, without the trailer", async () => {
    const message = "invalid_client: Error(s): 7000215 - Timestamp: 2026-12-01 - Description: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. Trace ID: 0a1b2c3d-0000-4000-8000-000000000001 Correlation ID: 0a1b2c3d-0000-4000-8000-000000000002 Timestamp: 2026-12-01 10:00:00Z";
    const error = await fromMsalError({ errorCode: "invalid_client", errorMessage: message }, context("clientSecret"));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toBe(
      "invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.",
    );
    expect((error as AuthenticationError).traceIds).toEqual({ traceId: "0a1b2c3d-0000-4000-8000-000000000001", correlationId: "0a1b2c3d-0000-4000-8000-000000000002" });
  });

  test("extractEntraIds falls back to MSAL's correlation id", () => {
    expect(extractEntraIds("AADSTS50000: something", "c0ffee00-0000-4000-8000-000000000000")).toEqual({ traceId: undefined, correlationId: "c0ffee00-0000-4000-8000-000000000000" });
  });
});

describe("networkErrorFor", () => {
  test.each(["SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_HAS_EXPIRED", "ERR_TLS_CERT_ALTNAME_INVALID"])(
    "a TLS failure (%s) names the host and points at NODE_EXTRA_CA_CERTS",
    (code) => {
      const error = networkErrorFor("https://login.example.com/t/oauth2/v2.0/token", new TypeError("fetch failed", { cause: { code } }));
      expect(error).toBeInstanceOf(NetworkError);
      expect(error.message).toBe(`could not reach the identity provider at https://login.example.com: ${code}`);
      expect(error.hint).toContain("NODE_EXTRA_CA_CERTS");
    },
  );

  test("an expired certificate points at the clock and the proxy's certificate", () => {
    const error = networkErrorFor("https://login.example.com/", new TypeError("fetch failed", { cause: { code: "CERT_HAS_EXPIRED" } }));
    expect(error.hint).toMatch(/^login\.example\.com's TLS certificate is outside its validity period; check this machine's clock/);
  });

  test("a TLS failure through a proxy names the proxy (never its credentials) and its CA certificate", () => {
    const failure = Object.assign(new TypeError("fetch failed", { cause: { code: "SELF_SIGNED_CERT_IN_CHAIN" } }), { viaProxy: "http://proxy.corp:3128" });
    const error = networkErrorFor("https://login.example.com/t", failure);
    expect(error.message).toBe("could not reach the identity provider at https://login.example.com through the proxy http://proxy.corp:3128: SELF_SIGNED_CERT_IN_CHAIN");
    expect(error.hint).toContain("NODE_EXTRA_CA_CERTS");
  });

  test("a refused connection points at the authority and proxy settings", () => {
    const error = networkErrorFor("https://127.0.0.1:9/", new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } }));
    expect(error.message).toBe("could not reach the identity provider at https://127.0.0.1:9: ECONNREFUSED");
    expect(error.hint).toContain("--authority-host");
  });
});
