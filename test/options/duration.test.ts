// Go's time.ParseDuration and Duration.String (values and error texts as Go prints them).
import { describe, expect, test } from "vitest";
import { formatGoDuration, formatGoDurationNs, parseGoDuration, parseGoDurationNs } from "../../src/options/duration.js";

describe("parseGoDuration", () => {
  test.each<[string, number]>([
    ["0", 0],
    ["+0", 0],
    ["-0", 0],
    ["0s", 0],
    ["-0s", 0],
    ["60s", 60_000],
    ["1m", 60_000],
    ["1h30m", 5_400_000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["300ms", 300],
    ["1.5s", 1_500],
    [".5s", 500],
    ["1.s", 1_000],
    ["+5s", 5_000],
    ["-1s", -1_000],
    ["-1.5m", -90_000],
    ["1h1m1s1ms", 3_661_001],
    ["1s1s", 2_000],
    ["500us", 0.5],
    ["500µs", 0.5],
    ["500μs", 0.5],
    ["1000000ns", 1],
    ["0.001ms", 0.001],
    ["2562047h", 9_223_369_200_000],
  ])("%j → %d ms", (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  test("never returns -0", () => {
    expect(Object.is(parseGoDuration("-0s"), 0)).toBe(true);
  });

  test.each<[string, bigint]>([
    ["1ns", 1n],
    ["1.5ns", 1n],
    ["0.3333333333h", 1_199_999_999_880n],
    ["9223372036854775807ns", 9_223_372_036_854_775_807n],
    ["-9223372036854775808ns", -9_223_372_036_854_775_808n],
    ["2562047h47m16.854775807s", 9_223_372_036_854_775_807n],
    // Exactly 2^63 is allowed for a negative duration, whether one part or the sum of several makes it.
    ["-9223372036854.775808ms", -9_223_372_036_854_775_808n],
    ["-2562047h47m16.854775808s", -9_223_372_036_854_775_808n],
    // Go's leadingFraction stops counting digits before they pass 2^63: here all 21 would give ...151.
    ["0.609178295319999969562h", 2_193_041_863_152n],
  ])("%j → %d ns (integer nanoseconds like Go)", (text, ns) => {
    expect(parseGoDurationNs(text)).toBe(ns);
  });

  test.each<[string, string]>([
    ["", 'time: invalid duration ""'],
    ["-", 'time: invalid duration "-"'],
    ["+", 'time: invalid duration "+"'],
    ["30", 'time: missing unit in duration "30"'],
    ["1h30", 'time: missing unit in duration "1h30"'],
    ["1.5.5s", 'time: missing unit in duration "1.5.5s"'],
    ["1d", 'time: unknown unit "d" in duration "1d"'],
    ["1S", 'time: unknown unit "S" in duration "1S"'],
    ["1 s", 'time: unknown unit " s" in duration "1 s"'],
    ["1sec", 'time: unknown unit "sec" in duration "1sec"'],
    [".s", 'time: invalid duration ".s"'],
    ["-.s", 'time: invalid duration "-.s"'],
    ["s", 'time: invalid duration "s"'],
    ["--1s", 'time: invalid duration "--1s"'],
    [" 1s", 'time: invalid duration " 1s"'],
    ["1e3s", 'time: unknown unit "e" in duration "1e3s"'],
    ["9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'],
    ["2562048h", 'time: invalid duration "2562048h"'],
    ["-2562048h", 'time: invalid duration "-2562048h"'],
    ["9223372036854.775808ms", 'time: invalid duration "9223372036854.775808ms"'],
    ["-9223372036854.775809ms", 'time: invalid duration "-9223372036854.775809ms"'],
    ["-2562047h47m16.854775809s", 'time: invalid duration "-2562047h47m16.854775809s"'],
    ["2562047h47m16.854775808s", 'time: invalid duration "2562047h47m16.854775808s"'],
    ["99999999999999999999", 'time: invalid duration "99999999999999999999"'],
    // The time package quotes non-ASCII and control bytes as \xhh (not strconv.Quote's style).
    ["1\u00e9", 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'],
    ['1"', 'time: unknown unit "\\"" in duration "1\\""'],
  ])("%j → %s", (text, message) => {
    expect(() => parseGoDuration(text)).toThrow(new Error(message));
  });
});

describe("formatGoDuration", () => {
  test.each<[number, string]>([
    [0, "0s"],
    [60_000, "1m0s"],
    [1_500, "1.5s"],
    [300, "300ms"],
    [1, "1ms"],
    [1.5, "1.5ms"],
    [0.5, "500µs"],
    [0.000_001, "1ns"],
    [1_000, "1s"],
    [59_999, "59.999s"],
    [90_000, "1m30s"],
    [3_600_000, "1h0m0s"],
    [5_400_000, "1h30m0s"],
    [90_061_001, "25h1m1.001s"],
    [-1_000, "-1s"],
    [-90_000, "-1m30s"],
    [-0.5, "-500µs"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });

  test.each<[bigint, string]>([
    [999n, "999ns"],
    [1_000n, "1µs"],
    [999_999n, "999.999µs"],
    [1_000_000n, "1ms"],
    [999_999_999n, "999.999999ms"],
    [1_000_000_000n, "1s"],
    [59_999_999_999n, "59.999999999s"],
    [60_000_000_000n, "1m0s"],
    [3_599_999_999_999n, "59m59.999999999s"],
    [3_600_000_000_000n, "1h0m0s"],
    [-1_000n, "-1µs"],
    [-1n, "-1ns"],
  ])("%d ns → %s (unit boundaries)", (ns, text) => {
    expect(formatGoDurationNs(ns)).toBe(text);
  });

  test("the extremes of time.Duration", () => {
    expect(formatGoDurationNs(9_223_372_036_854_775_807n)).toBe("2562047h47m16.854775807s");
    expect(formatGoDurationNs(-9_223_372_036_854_775_808n)).toBe("-2562047h47m16.854775808s");
  });

  test.each(["60s", "1h30m", "1.5s", "300ms", "-1m30s", "2562047h47m16.854775807s"])("%s round-trips through String()", (text) => {
    expect(parseGoDuration(formatGoDuration(parseGoDuration(text)))).toBe(parseGoDuration(text));
  });
});
