// The ExecCredential line on stdout (compat spec §2.2), byte for byte as Go's encoder writes it.
import { describe, expect, test } from "vitest";
import { formatExecCredential, writeExecCredential } from "../../src/exec/exec-credential.js";
import { parseExecInfo, V1, V1BETA1, type ExecApiVersion } from "../../src/exec/exec-info.js";

const EXPIRES = Date.UTC(2025, 1, 19, 5, 11, 17); // 2025-02-19T05:11:17Z

describe("formatExecCredential", () => {
  test.each<[ExecApiVersion, string]>([
    [V1BETA1, '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false},"status":{"expirationTimestamp":"2025-02-19T05:11:17Z","token":"tok"}}\n'],
    [V1, '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false},"status":{"expirationTimestamp":"2025-02-19T05:11:17Z","token":"tok"}}\n'],
  ])("%s: exactly one compact line, keys in Go's order", (apiVersion, line) => {
    expect(formatExecCredential(apiVersion, { token: "tok", expiresOn: EXPIRES })).toBe(line);
  });

  test("one line, one trailing newline, one JSON document", () => {
    const out = formatExecCredential(V1, { token: "a.b.c", expiresOn: EXPIRES });
    expect(out.split("\n")).toEqual([expect.any(String), ""]);
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(["kind", "apiVersion", "spec", "status"]);
    expect(parsed.spec).toEqual({ interactive: false });
    expect(Object.keys(parsed.status as object)).toEqual(["expirationTimestamp", "token"]);
  });

  test.each<[string, number, string]>([
    ["whole second", EXPIRES, "2025-02-19T05:11:17Z"],
    ["fractions are truncated, not rounded (1234.999 s)", 1_234_999, "1970-01-01T00:20:34Z"],
    ["999 ms past the second", EXPIRES + 999, "2025-02-19T05:11:17Z"],
    ["1 ms past the second", EXPIRES + 1, "2025-02-19T05:11:17Z"],
    ["sub-millisecond fractions", EXPIRES + 999.9, "2025-02-19T05:11:17Z"],
    ["the epoch", 0, "1970-01-01T00:00:00Z"],
    ["end of a year", Date.UTC(2025, 11, 31, 23, 59, 59, 500), "2025-12-31T23:59:59Z"],
  ])("expirationTimestamp, %s", (_name, expiresOn, timestamp) => {
    const out = JSON.parse(formatExecCredential(V1BETA1, { token: "t", expiresOn })) as { status: { expirationTimestamp: string } };
    expect(out.status.expirationTimestamp).toBe(timestamp);
  });

  test.each<[string, string]>([
    ["<>&", "\\u003c\\u003e\\u0026"],
    ["a<b", "a\\u003cb"],
    ["x&y=z", "x\\u0026y=z"],
    ['quote"back\\slash', 'quote\\"back\\\\slash'],
    ["line\u2028sep\u2029para", "line\\u2028sep\\u2029para"],
    ["tab\tnl\n", "tab\\tnl\\n"],
    ["\u0001", "\\u0001"],
    ["é", "é"],
  ])("token %j is escaped like Go's encoder", (token, escaped) => {
    const out = formatExecCredential(V1BETA1, { token, expiresOn: EXPIRES });
    expect(out).toBe(
      `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false},"status":{"expirationTimestamp":"2025-02-19T05:11:17Z","token":"${escaped}"}}\n`,
    );
    expect((JSON.parse(out) as { status: { token: string } }).status.token).toBe(token);
  });

  test("an empty token is omitted (omitempty in the Go type)", () => {
    expect(formatExecCredential(V1, { token: "", expiresOn: EXPIRES })).toBe(
      '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false},"status":{"expirationTimestamp":"2025-02-19T05:11:17Z"}}\n',
    );
  });

  test("spec stays interactive:false even when kubectl says it is interactive", () => {
    const { apiVersion } = parseExecInfo('{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}');
    expect(formatExecCredential(apiVersion, { token: "t", expiresOn: EXPIRES })).toContain('"spec":{"interactive":false}');
  });
});

describe("writeExecCredential", () => {
  test("writes the formatted line in a single write", () => {
    const writes: string[] = [];
    const stdout = { write: (text: string): void => void writes.push(text) };
    writeExecCredential(stdout, V1, { token: "tok", expiresOn: EXPIRES });
    expect(writes).toEqual([formatExecCredential(V1, { token: "tok", expiresOn: EXPIRES })]);
  });

  test("a write that throws is upstream's error with the OS reason, a hint and the cause", () => {
    const closed = Object.assign(new Error("EPIPE: broken pipe, write"), { code: "EPIPE", errno: -32, syscall: "write" });
    const stdout = {
      write: (): void => {
        throw closed;
      },
    };
    expect(() => writeExecCredential(stdout, V1, { token: "tok", expiresOn: EXPIRES })).toThrow(
      expect.objectContaining({
        name: "KubeloginError",
        message: "could not write the ExecCredential: write /dev/stdout: broken pipe",
        hint: "kubelogin's standard output was closed or full; it must be a pipe that kubectl (or you) reads",
        cause: closed,
      }),
    );
  });
});
