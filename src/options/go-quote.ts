// Go's two string quoters, so error texts that embed user input match upstream byte for byte:
// strconv.Quote (fmt's %q: pflag, net/url, kubelogin's own messages) and the time package's
// private quote (time.ParseDuration errors), which differ for control and non-ASCII characters.

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. Tested on one code point at a time. */
const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

/** Go's strconv.Quote (what `%q` prints for a string). */
export function strconvQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const escaped = SIMPLE_ESCAPES[ch];
    if (escaped !== undefined) {
      out += escaped;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\\ufffd"; // a lone surrogate is not a valid rune
    else {
      // Stryker disable next-line EqualityOperator: U+10000 is printable, so it never gets here
      out += cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
    }
  }
  return `${out}"`;
}

/** The time package's quote: `"` and `\` escaped, control and non-ASCII bytes as `\xhh`. */
export function timeQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x80 || cp < 0x20) {
      for (const byte of Buffer.from(ch)) out += `\\x${hex(byte, 2)}`;
    } else {
      out += ch === '"' || ch === "\\" ? `\\${ch}` : ch;
    }
  }
  return `${out}"`;
}
