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
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const whole = number[1]!;
    const fraction = number[2] ?? "";
    // Go needs at least one digit on either side of the point (".5s" is fine, ".s" is not).
    if (whole === "" && fraction === "") throw invalid();
    const v = BigInt(whole); // BigInt("") is 0n, as for ".5s"
    if (v > 1n << 63n) throw invalid(); // Go's leadingInt overflow, reported before the unit
    rest = rest.slice(number[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === "") throw new Error(`time: missing unit in duration ${timeQuote(text)}`);
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${timeQuote(unit)} in duration ${timeQuote(text)}`);
    rest = rest.slice(unit.length);

    if (v > (1n << 63n) / scale) throw invalid();
    let value = v * scale;
    if (fraction !== "") {
      const { digits, divisor } = leadingFraction(fraction);
      // Go: uint64(float64(f) * (float64(unit) / scale)), truncated.
      value += BigInt(Math.trunc(Number(digits) * (Number(scale) / divisor)));
      if (value > 1n << 63n) throw invalid();
    }
    total += value;
    if (total > 1n << 63n) throw invalid();
  }
  if (negative) return -total;
  if (total > MAX_INT64) throw invalid();
  return total;
}

/** Go's leadingFraction: digits stop counting (but are still consumed) once they would overflow. */
function leadingFraction(fraction: string): { digits: bigint; divisor: number } {
  let digits = 0n;
  let divisor = 1;
  for (const c of fraction) {
    if (digits > MAX_INT64 / 10n) break;
    const next = digits * 10n + BigInt(c);
    if (next > 1n << 63n) break;
    digits = next;
    divisor *= 10;
  }
  return { digits, divisor };
}

/** Milliseconds (possibly fractional, e.g. 0.5 for "500us"), or throws Go's error text. */
export function parseGoDuration(text: string): number {
  const ns = parseGoDurationNs(text);
  const ms = Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
  return ms === 0 ? 0 : ms; // never -0
}

/** Go's Duration.String: 60000 → "1m0s", 1500 → "1.5s", 0.5 → "500µs", 0 → "0s". */
export function formatGoDuration(ms: number): string {
  const whole = Math.trunc(ms);
  return formatGoDurationNs(BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6)));
}

export function formatGoDurationNs(ns: bigint): string {
  const sign = ns < 0n ? "-" : "";
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
