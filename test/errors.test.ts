// redact and formatError are the last line of defence between a secret and stderr: every
// message, hint and (at -v) cause chain goes through them.
import { describe, expect, test } from "vitest";
import { AuthenticationError, exitCodeOf, formatError, KubeloginError, NetworkError, redact } from "../src/errors.js";

// A real JWT's shape: base64url header, payload and signature.
const JWT =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiI2ZGFlNDJmOC00MzY4LTQ2NzgtOTRmZi0zOTYwZTI4ZTM2MzAifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU";
const SECRET = "s3cret-Value~with.special_chars";

describe("redact", () => {
  test.each([
    ["every occurrence of a given secret", `secret ${SECRET} and again ${SECRET}.`, [SECRET], "secret [REDACTED] and again [REDACTED]."],
    ["each of several secrets", "pfx pass-1234 and secret abcd-5678", ["pass-1234", "abcd-5678"], "pfx [REDACTED] and secret [REDACTED]"],
    ["a JWT, with no secret given", `Authorization: Bearer ${JWT}`, [], "Authorization: Bearer [REDACTED]"],
    ["a JWT inside JSON", `{"access_token":"${JWT}","expires_in":3599}`, [], '{"access_token":"[REDACTED]","expires_in":3599}'],
    ["client_secret=… in a form body", "grant_type=client_credentials&client_secret=Abc~123&scope=x", [], "grant_type=client_credentials&client_secret=[REDACTED]&scope=x"],
    ["password=… up to whitespace", "username=me password=hunter22 next", [], "username=me password=[REDACTED] next"],
    ["refresh_token=… up to a quote", 'body "refresh_token=0.AAAA-bbb" sent', [], 'body "refresh_token=[REDACTED]" sent'],
    ["access_token= and client_assertion=", "access_token=at1&client_assertion=ca2", [], "access_token=[REDACTED]&client_assertion=[REDACTED]"],
    ["key=value whatever the case", "Client_Secret=x1&PASSWORD=y2", [], "Client_Secret=[REDACTED]&PASSWORD=[REDACTED]"],
  ])("hides %s", (_name, text, secrets, want) => {
    expect(redact(text, secrets)).toBe(want);
  });

  test.each([
    ["a secret below the minimum length: 'abc' would blank every 'abc' in the text", "abc: tabcd", ["abc"]],
    ["an empty secret (an unset option)", "client id 1234", [""]],
    ["other key=value pairs", "client_id=1234&scope=6dae42f8/.default&tenant=t", []],
    ["something that merely starts like a JWT", "eyJ-short.x", []],
  ])("leaves %s alone", (_name, text, secrets) => {
    expect(redact(text, secrets)).toBe(text);
  });
});

describe("formatError", () => {
  test("a KubeloginError: one Error line and its hint line", () => {
    const err = new AuthenticationError("failed to get token: invalid_client: AADSTS7000215: Invalid client secret provided.", {
      hint: "check the client secret (AZURE_CLIENT_SECRET)",
    });
    expect(formatError(err, false)).toBe(
      "Error: failed to get token: invalid_client: AADSTS7000215: Invalid client secret provided.\nhint: check the client secret (AZURE_CLIENT_SECRET)\n",
    );
  });

  test("no hint line when there is no hint", () => {
    expect(formatError(new KubeloginError("server-id is required"), false)).toBe("Error: server-id is required\n");
  });

  test("without -v the cause chain and stack stay hidden", () => {
    const err = new NetworkError("failed to get token: could not reach the identity provider", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") });
    expect(formatError(err, false)).toBe("Error: failed to get token: could not reach the identity provider\n");
  });

  test("with -v every cause is shown with its class, and no stack for our own errors", () => {
    const os = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const fetchError = new TypeError("fetch failed", { cause: os });
    const err = new NetworkError("failed to get token: could not reach the identity provider", { cause: fetchError, hint: "check the network" });
    expect(formatError(err, true)).toBe(
      [
        "Error: failed to get token: could not reach the identity provider",
        "hint: check the network",
        "caused by: TypeError: fetch failed",
        "caused by: Error: connect ECONNREFUSED 127.0.0.1:1",
      ].join("\n") + "\n",
    );
  });

  test("with -v a cause whose message the error already ends with is not repeated", () => {
    const inner = new AuthenticationError("invalid_client: AADSTS7000215: Invalid client secret provided.");
    const outer = new AuthenticationError(`failed to get token: ${inner.message}`, { cause: inner });
    expect(formatError(outer, true)).toBe(`Error: ${outer.message}\n`);
  });

  test("with -v secrets, key=value pairs and JWTs deep in the cause chain are redacted", () => {
    const root = new Error(`POST /token failed: client_id=abc&client_secret=${SECRET}&scope=x; echoed ${JWT}`);
    const middle = new KubeloginError(`MSAL rejected ${SECRET}`, { cause: root });
    const err = new AuthenticationError("failed to get token: invalid_client", { cause: middle });
    const text = formatError(err, true, [SECRET]);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(JWT);
    expect(text).toContain("caused by: KubeloginError: MSAL rejected [REDACTED]");
    expect(text).toContain("caused by: Error: POST /token failed: client_id=abc&client_secret=[REDACTED]&scope=x; echoed [REDACTED]");
  });

  test("the Error and hint lines are redacted too, verbose or not", () => {
    const err = new KubeloginError(`bad value ${SECRET}`, { hint: `not ${SECRET}; password=hunter22` });
    for (const verbose of [false, true]) {
      expect(formatError(err, verbose, [SECRET])).toBe("Error: bad value [REDACTED]\nhint: not [REDACTED]; password=[REDACTED]\n");
    }
  });

  test("an error that is not ours: its message, and its stack (redacted) only with -v", () => {
    const err = new RangeError(`unexpected ${SECRET}`);
    expect(formatError(err, false, [SECRET])).toBe("Error: unexpected [REDACTED]\n");
    const verbose = formatError(err, true, [SECRET]);
    expect(verbose).toMatch(/^Error: unexpected \[REDACTED\]\nRangeError: unexpected \[REDACTED\]\n\s+at /);
    expect(verbose).not.toContain(SECRET);
  });

  test("something thrown that is not an Error at all", () => {
    expect(formatError(`plain ${SECRET}`, true, [SECRET])).toBe("Error: plain [REDACTED]\n");
    expect(formatError(undefined, false)).toBe("Error: undefined\n");
  });
});

test("exit code: a KubeloginError's own, 1 for anything else", () => {
  expect(exitCodeOf(new KubeloginError("x", { exitCode: 2 }))).toBe(2);
  expect(exitCodeOf(new KubeloginError("x"))).toBe(1);
  expect(exitCodeOf(new Error("x"))).toBe(1);
  expect(exitCodeOf("x")).toBe(1);
});
