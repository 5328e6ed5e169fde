// Go's time.ParseDuration and Duration.String, so `--timeout` and AZURE_CLI_TIMEOUT accept and
// print exactly what upstream does ("60s", "1m30s", "1.5h"; "30" is an error). Both work in
// integer nanoseconds like Go (BigInt), and expose milliseconds to the rest of kubelogin.
import { timeQuote } from "./go-quote.js";

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n, // U+00B5 micro sign
  "μs": 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_INT64 = (1n << 63n) - 1n;
const NS_PER_MS = 1_000_000n;

/** Nanoseconds, or throws an Error with Go's message (`time: missing unit in duration "30"`). */
export function parseGoDurationNs(text: string): bigint {
  const invalid = (): Error => new Error(`time: invalid duration ${timeQuote(text)}`);
  let rest = text;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest.startsWith("-");
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") throw invalid();
  let total = 0n;
  while (rest.length > 0) {
    // Every part is optional, so this matches at index 0 (an anchor would change nothing).
    const number = /(\d*)(?:\.(\d*))?/.exec(rest)!;
    const whole = number[1]!;
    const fraction = number[2] ?? "";
    // Go needs at least one digit on either side of the point (".5s" is fine, ".s" is not).
    if (whole === "" && fraction === "") throw invalid();
    const v = BigInt(whole); // BigInt("") is 0n, as for ".5s"
    if (v > 1n << 63n) throw invalid(); // Go's leadingInt overflow, reported before the unit
    rest = rest.slice(number[0].length);
    // Matches at index 0 too, if only the empty string.
    const unit = /[^\d.]*/.exec(rest)![0];
    if (unit === "") throw new Error(`time: missing unit in duration ${timeQuote(text)}`);
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${timeQuote(unit)} in duration ${timeQuote(text)}`);
    rest = rest.slice(unit.length);

    // Go checks v * unit and v + fraction for uint64 overflow too; BigInt cannot wrap, so the check
    // on the total below catches every such case with the same error. An empty fraction adds 0.
    const { digits, divisor } = leadingFraction(fraction);
    // Go: uint64(float64(f) * (float64(unit) / scale)), truncated.
    total += v * scale + BigInt(Math.trunc(Number(digits) * (Number(scale) / divisor)));
    if (total > 1n << 63n) throw invalid();
  }
  if (negative) return -total;
  if (total > MAX_INT64) throw invalid();
  return total;
}

/**
 * Go's leadingFraction: digits stop counting (but are still consumed) once they would pass 2^63.
 * (Go's extra x > MaxInt64/10 check guards its uint64 multiplication; with BigInt the one below is enough.)
 */
function leadingFraction(fraction: string): { digits: bigint; divisor: number } {
  let digits = 0n;
  let divisor = 1;
  for (const c of fraction) {
    const next = digits * 10n + BigInt(c);
    // Stryker disable next-line EqualityOperator: only digits of exactly 2^63 differ, and for every unit (and any leading zeros) that fraction truncates to the same nanoseconds as its first 18 digits
    if (next > 1n << 63n) break;
    digits = next;
    divisor *= 10;
  }
  return { digits, divisor };
}

/** Milliseconds (possibly fractional, e.g. 0.5 for "500us"), or throws Go's error text. */
export function parseGoDuration(text: string): number {
  const ns = parseGoDurationNs(text);
  // Never -0: BigInt has no negative zero, and Number(0n) is +0.
  return Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
}

/** Go's Duration.String: 60000 → "1m0s", 1500 → "1.5s", 0.5 → "500µs", 0 → "0s". */
export function formatGoDuration(ms: number): string {
  const whole = Math.trunc(ms);
  return formatGoDurationNs(BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6)));
}

export function formatGoDurationNs(ns: bigint): string {
  // Stryker disable next-line EqualityOperator: for ns = 0 the sign is never printed ("0s")
  const sign = ns < 0n ? "-" : "";
  // Stryker disable next-line EqualityOperator: -0n is 0n
  let u = ns < 0n ? -ns : ns;
  if (u < 1_000_000_000n) {
    if (u === 0n) return "0s";
    if (u < 1_000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) return `${sign}${fixed(u, 3)}µs`;
    return `${sign}${fixed(u, 6)}ms`;
  }
  const seconds = fixed(u % 60_000_000_000n, 9);
  u /= 60_000_000_000n; // whole minutes
  if (u === 0n) return `${sign}${seconds}s`;
  const minutes = u % 60n;
  const hours = u / 60n;
  if (hours === 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${hours}h${minutes}m${seconds}s`;
}

/** `value / 10^precision` printed without trailing zeros (Go's fmtFrac + fmtInt). */
function fixed(value: bigint, precision: number): string {
  const divisor = 10n ** BigInt(precision);
  const fraction = (value % divisor).toString().padStart(precision, "0").replace(/0+$/, "");
  return fraction === "" ? `${value / divisor}` : `${value / divisor}.${fraction}`;
}
