// The syntax errors of Go's encoding/json (its scanner.go state machine), so a malformed
// KUBERNETES_EXEC_INFO is reported in upstream's words (compat spec §2.1) rather than V8's.
// Only the first error matters: Go's checkValid stops there too.

const MAX_NESTING_DEPTH = 10_000;

type Step = (c: number) => Step | "error";
const enum Parse {
  ObjectKey,
  ObjectValue,
  ArrayValue,
}

/** Go's json.Unmarshal syntax error for `text`, or undefined when the text is valid JSON. */
export function goJsonSyntaxError(text: string): string | undefined {
  const bytes = Buffer.from(text);
  const stack: Parse[] = [];
  let error: string | undefined;
  let endTop = false;
  const fail = (c: number, context: string): "error" => {
    error = `invalid character ${quoteChar(c)} ${context}`;
    return "error";
  };
  const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

  const endTopState: Step = (c) => (isSpace(c) ? endTopState : fail(c, "after top-level value"));
  const endValue: Step = (c) => {
    const top = stack.at(-1);
    if (top === undefined) {
      endTop = true;
      return endTopState(c);
    }
    if (isSpace(c)) return endValue;
    if (top === Parse.ObjectKey) {
      if (c !== 0x3a) return fail(c, "after object key");
      stack[stack.length - 1] = Parse.ObjectValue;
      return beginValue;
    }
    if (top === Parse.ObjectValue) {
      if (c === 0x2c) {
        stack[stack.length - 1] = Parse.ObjectKey;
        return beginString;
      }
      if (c === 0x7d) return pop();
      return fail(c, "after object key:value pair");
    }
    if (c === 0x2c) return beginValue;
    if (c === 0x5d) return pop();
    return fail(c, "after array element");
  };
  // With the stack empty, endValue itself moves on to the end-of-top-level state.
  const pop = (): Step => {
    stack.pop();
    return endValue;
  };
  const literal = (word: string, at: number): Step => (c) => {
    if (c !== word.charCodeAt(at)) return fail(c, `in literal ${word} (expecting ${quoteChar(word.charCodeAt(at))})`);
    return at + 1 === word.length ? endValue : literal(word, at + 1);
  };
  const inString: Step = (c) => {
    if (c === 0x22) return endValue;
    if (c === 0x5c) return inStringEscape;
    if (c < 0x20) return fail(c, "in string literal");
    return inString;
  };
  const inStringEscape: Step = (c) => {
    if ('bfnrt\\/"'.includes(String.fromCharCode(c))) return inString;
    if (c === 0x75) return unicodeEscape(4);
    return fail(c, "in string escape code");
  };
  const unicodeEscape = (left: number): Step => (c) => {
    if (!isHex(c)) return fail(c, "in \\u hexadecimal character escape");
    return left === 1 ? inString : unicodeEscape(left - 1);
  };
  const negative: Step = (c) => {
    if (c === 0x30) return zero;
    if (isDigit(c)) return digits;
    return fail(c, "in numeric literal");
  };
  const digits: Step = (c) => (isDigit(c) ? digits : zero(c));
  const zero: Step = (c) => {
    if (c === 0x2e) return dot;
    if (c === 0x65 || c === 0x45) return exponent;
    return endValue(c);
  };
  const dot: Step = (c) => (isDigit(c) ? fraction : fail(c, "after decimal point in numeric literal"));
  const fraction: Step = (c) => {
    if (isDigit(c)) return fraction;
    if (c === 0x65 || c === 0x45) return exponent;
    return endValue(c);
  };
  const exponent: Step = (c) => (c === 0x2b || c === 0x2d ? exponentSign : exponentSign(c));
  const exponentSign: Step = (c) => (isDigit(c) ? exponentDigits : fail(c, "in exponent of numeric literal"));
  const exponentDigits: Step = (c) => (isDigit(c) ? exponentDigits : endValue(c));
  const beginString: Step = (c) => {
    if (isSpace(c)) return beginString;
    if (c === 0x22) return inString;
    return fail(c, "looking for beginning of object key string");
  };
  const beginStringOrEmpty: Step = (c) => {
    if (isSpace(c)) return beginStringOrEmpty;
    if (c === 0x7d) {
      stack[stack.length - 1] = Parse.ObjectValue;
      return endValue(c);
    }
    return beginString(c);
  };
  const beginValueOrEmpty: Step = (c) => {
    if (isSpace(c)) return beginValueOrEmpty;
    if (c === 0x5d) return endValue(c);
    return beginValue(c);
  };
  const beginValue: Step = (c) => {
    if (isSpace(c)) return beginValue;
    switch (c) {
      case 0x7b:
        stack.push(Parse.ObjectKey);
        return stack.length > MAX_NESTING_DEPTH ? fail(c, "exceeded max depth") : beginStringOrEmpty;
      case 0x5b:
        stack.push(Parse.ArrayValue);
        return stack.length > MAX_NESTING_DEPTH ? fail(c, "exceeded max depth") : beginValueOrEmpty;
      case 0x22:
        return inString;
      case 0x2d:
        return negative;
      case 0x30:
        return zero;
      case 0x74:
        return literal("true", 1);
      case 0x66:
        return literal("false", 1);
      case 0x6e:
        return literal("null", 1);
    }
    if (isDigit(c)) return digits;
    return fail(c, "looking for beginning of value");
  };

  let step: Step = beginValue;
  for (const c of bytes) {
    const next = step(c);
    if (next === "error") return error;
    step = next;
  }
  // Go's eof(): a space ends a pending number or top-level value; anything else was cut short.
  const next = step(0x20);
  if (next === "error") return error;
  return endTop ? undefined : "unexpected end of JSON input";
}

/** encoding/json's quoteChar: the byte as a Go rune literal. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  const quoted = goQuoteRune(c);
  return `'${quoted}'`;
}

/**
 * strconv.Quote(string(rune(c))) without the quotes (and '"' left bare, as quoteChar wants it).
 * The bytes that reach it are ASCII or UTF-8 lead bytes (0xC2–0xF4), all printable Latin-1 runes.
 */
function goQuoteRune(c: number): string {
  const simple: Record<number, string> = { 0x07: "\\a", 0x08: "\\b", 0x0c: "\\f", 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x0b: "\\v", 0x5c: "\\\\" };
  if (simple[c] !== undefined) return simple[c]!;
  if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).padStart(2, "0")}`;
  return String.fromCharCode(c);
}
