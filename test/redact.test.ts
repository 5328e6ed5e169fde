// The one redaction layer (issue 12, item 5) on the shapes nobody registers as a secret: opaque
// tokens behind an Authorization header, token fields in echoed JSON or forms, MSAL cache entries.
import { describe, expect, test } from "vitest";
import { formatError, KubeloginError, redact } from "../src/errors.js";
import { createLogger } from "../src/log.js";
import { bufferedOutput, fixedClock } from "./support/runtime.js";

const OPAQUE = "0.AXEAv4j5cvGGr0GRqy180BHbR1V2wCNo";

describe("redact", () => {
  test.each([
    ["an Authorization header with an opaque bearer token", `Authorization: Bearer ${OPAQUE}`, "Authorization: Bearer [REDACTED]"],
    ["a lower-case authorization header with another scheme", `authorization: Basic dXNlcjpwYXNz`, "authorization: Basic [REDACTED]"],
    ["headers as JSON", `{"authorization":"bearer ${OPAQUE}","accept":"json"}`, '{"authorization":"bearer [REDACTED]","accept":"json"}'],
    ["App Service's identity header", `X-IDENTITY-HEADER: ${OPAQUE}`, "X-IDENTITY-HEADER: [REDACTED]"],
    ["an opaque refresh token in JSON", `{"refresh_token":"${OPAQUE}","foci":"1"}`, '{"refresh_token":"[REDACTED]","foci":"1"}'],
    ["an MSAL cache entry's secret", `{"credential_type":"RefreshToken","secret": "${OPAQUE}"}`, '{"credential_type":"RefreshToken","secret": "[REDACTED]"}'],
    ["az and azd's token fields", `{"accessToken":"${OPAQUE}","token":"${OPAQUE}x"}`, '{"accessToken":"[REDACTED]","token":"[REDACTED]"}'],
    ["a client assertion and a PKCE verifier in a form", `client_assertion=${OPAQUE}&code_verifier=abc123&code=xyz`, "client_assertion=[REDACTED]&code_verifier=[REDACTED]&code=[REDACTED]"],
    ["a device code, but not the user code meant for the user", "device_code=DAQABAAEAAAD&user_code=ABCD1234", "device_code=[REDACTED]&user_code=ABCD1234"],
  ])("%s", (_name, text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  test("an error's code, the word Authorization in prose, and a user code stay readable", () => {
    const text = 'the Authorization header is missing; {"error":{"code":"IdentityNotFound"}} user_code=ABCD1234';
    expect(redact(text)).toBe(text);
  });

  test("Entra's error page link keeps its error code", () => {
    const body = '"error_uri":"https://login.microsoftonline.com/error?code=500011"';
    expect(redact(body)).toBe(body);
  });

  test.each([
    ["a loopback redirect with an authorization code", "GET /?code=0.AXoAv4j5cvGG&client_info=eyJ1&state=abc", "GET /?code=[REDACTED]&client_info=eyJ1&state=abc"],
    ["a redirect whose code is only digits", "http://localhost:8400/?state=s1&code=123456", "http://localhost:8400/?state=s1&code=[REDACTED]"],
    ["a token request body whose code is only digits", "body=grant_type=authorization_code&code=987654&redirect_uri=http", "body=grant_type=authorization_code&code=[REDACTED]&redirect_uri=http"],
    ["a lone opaque code", "code=OAQABAAIAAAD", "code=[REDACTED]"],
  ])("an authorization code where it is one: %s", (_name, text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  test("a registered secret that contains another is replaced whole", () => {
    expect(redact("pass=abcd-efgh-ijkl", ["efgh", "abcd-efgh-ijkl"])).toBe("pass=[REDACTED]");
  });
});

describe("a secret that is a common word", () => {
  test("does not eat upstream's breadcrumb, but is redacted where a value is", () => {
    const err = new KubeloginError('unable to parse "token" from the response').wrap("failed to get token");
    expect(formatError(err, false, ["token"])).toBe('Error: failed to get token: unable to parse "[REDACTED]" from the response\n');
  });

  test("every prefix of the breadcrumb is ours, however many wraps", () => {
    const err = new KubeloginError("secret rejected").wrap("failed to create PoP token using client secret credential").wrap("failed to get token");
    expect(formatError(err, false, ["secret"])).toBe("Error: failed to get token: failed to create PoP token using client secret credential: [REDACTED] rejected\n");
  });

  test("flag and variable names a hint quotes are ours; the same word elsewhere in the hint is not", () => {
    const err = new KubeloginError("client secret cannot be empty", { hint: "pass --client-secret or set AZURE_CLIENT_SECRET (got secret)" });
    expect(formatError(err, false, ["secret"], ["--client-secret", "AZURE_CLIENT_SECRET"])).toBe(
      "Error: client [REDACTED] cannot be empty\nhint: pass --client-secret or set AZURE_CLIENT_SECRET (got [REDACTED])\n",
    );
  });

  test("a name is ours only whole: a value that merely starts like a flag is redacted", () => {
    const err = new KubeloginError("unknown flag: --client-secretive");
    expect(formatError(err, false, ["secretive"], ["--client-secret"])).toBe("Error: unknown flag: --client-[REDACTED]\n");
  });

  test("overlapping secrets become one marker", () => {
    expect(redact("x abcdefgh y", ["abcdef", "defgh"])).toBe("x [REDACTED] y");
  });
});

describe("the logger and the error reporter share it", () => {
  test("a log line at -v 10 with an echoed request", () => {
    const stderr = bufferedOutput();
    const log = createLogger(stderr, 10, fixedClock("2026-01-01T00:00:00Z"), 1);
    log.addSecrets(["pfx-Pass.word"]);
    log.v(10, `POST /token headers={"Authorization":"Bearer ${OPAQUE}"} body=client_id=a&refresh_token=${OPAQUE} pfx=pfx-Pass.word`);
    expect(stderr.text()).not.toContain(OPAQUE);
    expect(stderr.text()).not.toContain("pfx-Pass.word");
  });

  test("an error whose cause echoes a token response", () => {
    const err = new KubeloginError("failed to get token", { cause: new Error(`bad answer {"access_token":"${OPAQUE}","refresh_token":"${OPAQUE}"}`) });
    expect(formatError(err, true)).not.toContain(OPAQUE);
  });
});
