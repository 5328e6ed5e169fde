// encoding/json's scanner, state by state: what Go accepts, and the first syntax error it reports
// (with the offending byte quoted like Go's quoteChar). exec-info.test.ts covers the texts as
// KUBERNETES_EXEC_INFO reports them; this file walks the grammar itself.
import { describe, expect, test } from "vitest";
import { goJsonSyntaxError } from "../../src/exec/go-json-syntax.js";

describe("valid JSON", () => {
  test.each([
    // Numbers: every digit, a leading zero or minus, fractions, exponents with and without a sign.
    "[0, 1, 9, 10, 90, 1234567890]",
    "[-0, -5, -90, -0.5, -1.25]",
    "[0.5, 1.5, 9.09, 10.0]",
    "[0e5, 0E5, 1e5, 1E5, 1e55, 1e+5, 1e-5, 1E+05]",
    "[1.5e3, 1.5E3, 0.5e-3, 1.25E+10]",
    "1e5",
    "-12",
    "1.5",
    // Strings: every simple escape and \u escapes with every hex digit range.
    '"\\b\\f\\n\\r\\t\\\\\\/\\""',
    '"\\u0041\\uaf09\\uAF09\\u09fF"',
    // Whitespace: space, tab, newline and carriage return, wherever Go allows it.
    ' \t\r\n{ \t\r\n"a" \t\r\n: \t\r\n1 \t\r\n, \t\r\n"b":2}\t\r\n ',
    '{\t"a":1}',
    '{\r"a":1}',
    '{"a":1,\t"b":2}',
    '{"a":1,\r"b":2}',
    "{ }",
    "[ ]",
    "[ 1]",
    "{ \"a\":1}",
    // Members after a nested value: the stack goes back to the right container.
    '[{"a":1,"b":2},3]',
    '{"a":{"b":[1,{"c":2}]},"d":[[],{}]}',
    "{}",
    "[]",
    "null",
    "true",
    "false",
  ])("%j", (text) => {
    expect(goJsonSyntaxError(text)).toBeUndefined();
  });
});

describe("syntax errors", () => {
  test.each<[string, string]>([
    ["-01", "invalid character '1' after top-level value"],
    ["1.5x", "invalid character 'x' after top-level value"],
    ['{"a":1.5x}', "invalid character 'x' after object key:value pair"],
    ["1e5x", "invalid character 'x' after top-level value"],
    ["1e+x", "invalid character 'x' in exponent of numeric literal"],
    ["1e-}", "invalid character '}' in exponent of numeric literal"],
    ['"\\ug"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['"\\uG"', "invalid character 'G' in \\u hexadecimal character escape"],
    ['"\\u@"', "invalid character '@' in \\u hexadecimal character escape"],
    ['"\\u`"', "invalid character '`' in \\u hexadecimal character escape"],
    ['"\\u/"', "invalid character '/' in \\u hexadecimal character escape"],
    ['"\\u:"', "invalid character ':' in \\u hexadecimal character escape"],
    ['"\\u004"', "invalid character '\"' in \\u hexadecimal character escape"],
    ['"\\a"', "invalid character 'a' in string escape code"],
    ['{"a":1}}', "invalid character '}' after top-level value"],
    ["[] []", "invalid character '[' after top-level value"],
    ['{"a":1,"b"}', "invalid character '}' after object key"],
    // Go's quoteChar: control bytes as Go escapes or \x, the backslash doubled.
    ["\u0007", "invalid character '\\a' looking for beginning of value"],
    ["\u0008", "invalid character '\\b' looking for beginning of value"],
    ["\u000c", "invalid character '\\f' looking for beginning of value"],
    ["\u000b", "invalid character '\\v' looking for beginning of value"],
    ['"\n"', "invalid character '\\n' in string literal"],
    ['"\r"', "invalid character '\\r' in string literal"],
    ['"\t"', "invalid character '\\t' in string literal"],
    ["\\", "invalid character '\\\\' looking for beginning of value"],
    ["\u001f", "invalid character '\\x1f' looking for beginning of value"],
    ["\u007f", "invalid character '\\x7f' looking for beginning of value"],
    ['{"a" "b"}', "invalid character '\"' after object key"],
    ["'", "invalid character '\\'' looking for beginning of value"],
    ["~", "invalid character '~' looking for beginning of value"],
    ["ü", "invalid character 'Ã' looking for beginning of value"],
    ["", "unexpected end of JSON input"],
    ["[", "unexpected end of JSON input"],
    ['{"a":1', "unexpected end of JSON input"],
    // Go's eof() feeds a space first: inside an escape or a literal, that space is the error.
    ['"\\u00', "invalid character ' ' in \\u hexadecimal character escape"],
    ["tru", "invalid character ' ' in literal true (expecting 'e')"],
  ])("%j → %s", (text, error) => {
    expect(goJsonSyntaxError(text)).toBe(error);
  });
});

describe("nesting depth (encoding/json's maxNestingDepth, 10,000)", () => {
  const nested = (depth: number, inner: string): string => `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;

  test("an object at depth 10,000 is fine, at 10,001 it is the max-depth error", () => {
    expect(goJsonSyntaxError(nested(9_999, "{}"))).toBeUndefined();
    expect(goJsonSyntaxError(nested(10_000, "{}"))).toBe("invalid character '{' exceeded max depth");
  });

  test("an array at depth 10,000 is fine, at 10,001 it is the max-depth error", () => {
    expect(goJsonSyntaxError(nested(9_999, "[]"))).toBeUndefined();
    expect(goJsonSyntaxError(nested(10_000, "[]"))).toBe("invalid character '[' exceeded max depth");
  });
});
