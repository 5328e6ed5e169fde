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

  test("a refused connection points at the authority and proxy settings", () => {
    const error = networkErrorFor("https://127.0.0.1:9/", new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } }));
    expect(error.message).toBe("could not reach the identity provider at https://127.0.0.1:9: ECONNREFUSED");
    expect(error.hint).toContain("--authority-host");
  });
});
