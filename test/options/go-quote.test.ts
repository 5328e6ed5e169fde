// Go's quoters, byte for byte (the expected texts are what Go 1.22's strconv.Quote and
// time.ParseDuration's error print). Written from the mutants StrykerJS left alive in go-quote.ts
// (npm run mutate). The equivalent ones are disabled in go-quote.ts, each with its reason.
import { describe, expect, test } from "vitest";
import { strconvQuote, timeQuote } from "../../src/options/go-quote.js";

describe("strconvQuote", () => {
  test.each([
    ["plain ASCII and the space", "a b~", '"a b~"'],
    ["quote and backslash", 'a"b\\c', '"a\\"b\\\\c"'],
    ["the named escapes", "\x07\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'],
    ["other C0 controls and DEL as \\x", "\x00\x1b\x1f\x7f", '"\\x00\\x1b\\x1f\\x7f"'],
    ["printable non-ASCII as itself", "héllo 😀 日本", '"héllo 😀 日本"'],
    ["a C1 control, NBSP and a zero-width space as \\u", "\u0085\u00a0\u200b", '"\\u0085\\u00a0\\u200b"'],
    ["unassigned and private-use code points around the surrogates", "\ud7ff\ue000\uffff", '"\\ud7ff\\ue000\\uffff"'],
    ["lone surrogates at both ends of the range as the replacement character", "\ud800|\udfff", '"\\ufffd|\\ufffd"'],
    ["a non-printable rune beyond the BMP as \\U", "\u{e0001}", '"\\U000e0001"'],
  ])("%s", (_name, input, expected) => {
    expect(strconvQuote(input)).toBe(expected);
  });
});

describe("timeQuote", () => {
  test.each([
    ["plain ASCII, the space and DEL as themselves", "1h 2m\x7f", '"1h 2m\x7f"'],
    ["quote and backslash", 'a"b\\', '"a\\"b\\\\"'],
    ["controls as \\x, tab and newline too", "\x00\t\n\x1f", '"\\x00\\x09\\x0a\\x1f"'],
    ["non-ASCII as its UTF-8 bytes", "1é😀", '"1\\xc3\\xa9\\xf0\\x9f\\x98\\x80"'],
    ["U+0080, the first non-ASCII code point, as bytes too", "\u0080", '"\\xc2\\x80"'],
  ])("%s", (_name, input, expected) => {
    expect(timeQuote(input)).toBe(expected);
  });
});
