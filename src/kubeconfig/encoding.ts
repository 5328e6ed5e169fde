// A kubeconfig's bytes as kubectl reads them. client-go hands the file to go-yaml v2, whose reader
// picks the encoding from a byte-order mark (UTF-16LE, UTF-16BE or UTF-8; none means UTF-8) and
// refuses malformed sequences and control characters before any YAML is parsed. We do the same,
// with go-yaml's texts, and remember the encoding so a rewritten file keeps it: the bytes of what
// was not converted come back exactly as they were read.

export type KubeconfigEncoding = "utf8" | "utf8-bom" | "utf16le" | "utf16be";

export interface DecodedKubeconfig {
  readonly text: string;
  readonly encoding: KubeconfigEncoding;
}

/** What go-yaml's reader says about bytes it cannot read, e.g. "yaml: invalid trailing UTF-8 octet". */
export class KubeconfigDecodeError extends Error {}

export function decodeKubeconfig(bytes: Uint8Array): DecodedKubeconfig {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: decodeUtf16(bytes, 2, true), encoding: "utf16le" };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: decodeUtf16(bytes, 2, false), encoding: "utf16be" };
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: decodeUtf8(bytes, 3), encoding: "utf8-bom" };
  return { text: decodeUtf8(bytes, 0), encoding: "utf8" };
}

export function encodeKubeconfig(text: string, encoding: KubeconfigEncoding): Buffer {
  switch (encoding) {
    case "utf8":
      return Buffer.from(text);
    case "utf8-bom":
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    case "utf16le":
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    case "utf16be":
      return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()]);
  }
}

function fail(problem: string): never {
  throw new KubeconfigDecodeError(`yaml: ${problem}`);
}

/** go-yaml v2 readerc.go: the characters YAML allows in a stream. */
function checkAllowed(value: number): void {
  const allowed =
    value === 0x09 ||
    value === 0x0a ||
    value === 0x0d ||
    (value >= 0x20 && value <= 0x7e) ||
    value === 0x85 ||
    (value >= 0xa0 && value <= 0xd7ff) ||
    (value >= 0xe000 && value <= 0xfffd) ||
    // No decoder here yields more than U+10FFFF: UTF-8 refuses it first, UTF-16 cannot encode it.
    value >= 0x10000;
  if (!allowed) fail("control characters are not allowed");
}

/** 1 for the ASCII bytes YAML allows (tab, line feed, carriage return, space to tilde). */
const PLAIN_ASCII = new Uint8Array(256);
// Stryker disable next-line ConditionalExpression,EqualityOperator: a byte left out of the table only leaves it to the full check (a speed-up)
for (let octet = 0x20; octet < 0x7f; octet++) PLAIN_ASCII[octet] = 1;
// Stryker disable next-line ArrayDeclaration: as above
for (const octet of [0x09, 0x0a, 0x0d]) PLAIN_ASCII[octet] = 1;

/** The smallest value each UTF-8 width may encode: anything less has a shorter form. */
const SHORTEST_FROM = [0, 0, 0x80, 0x800, 0x10000];

function decodeUtf8(bytes: Uint8Array, start: number): string {
  // The common case, all ASCII, checked without building anything per character. Only a speed-up:
  // the loop after it checks every byte this one leaves, so stopping early changes nothing.
  let i = start;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a speed-up only (see above), stopping at any byte is correct
  while (i < bytes.length && PLAIN_ASCII[bytes[i]!] === 1) i++;
  while (i < bytes.length) {
    const octet = bytes[i]!;
    let width: number;
    let value: number;
    if ((octet & 0x80) === 0) [width, value] = [1, octet];
    else if ((octet & 0xe0) === 0xc0) [width, value] = [2, octet & 0x1f];
    else if ((octet & 0xf0) === 0xe0) [width, value] = [3, octet & 0x0f];
    else if ((octet & 0xf8) === 0xf0) [width, value] = [4, octet & 0x07];
    else fail("invalid leading UTF-8 octet");
    if (width > bytes.length - i) fail("incomplete UTF-8 octet sequence");
    for (let k = 1; k < width; k++) {
      const trailing = bytes[i + k]!;
      if ((trailing & 0xc0) !== 0x80) fail("invalid trailing UTF-8 octet");
      value = (value << 6) + (trailing & 0x3f);
    }
    if (value < SHORTEST_FROM[width]!) fail("invalid length of a UTF-8 sequence");
    if ((value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) fail("invalid Unicode character");
    checkAllowed(value);
    i += width;
  }
  // Valid by the checks above, so this decodes every byte and round-trips exactly.
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString("utf8");
}

function decodeUtf16(bytes: Uint8Array, start: number, littleEndian: boolean): string {
  const unit = (at: number): number => (littleEndian ? bytes[at]! + (bytes[at + 1]! << 8) : (bytes[at]! << 8) + bytes[at + 1]!);
  for (let i = start; i < bytes.length; ) {
    if (bytes.length - i < 2) fail("incomplete UTF-16 character");
    let value = unit(i);
    if ((value & 0xfc00) === 0xdc00) fail("unexpected low surrogate area");
    if ((value & 0xfc00) === 0xd800) {
      if (bytes.length - i < 4) fail("incomplete UTF-16 surrogate pair");
      const low = unit(i + 2);
      if ((low & 0xfc00) !== 0xdc00) fail("expected low surrogate area");
      value = 0x10000 + ((value & 0x3ff) << 10) + (low & 0x3ff);
      i += 4;
    } else {
      i += 2;
    }
    checkAllowed(value);
  }
  const body = Buffer.from(bytes.subarray(start));
  return (littleEndian ? body : body.swap16()).toString("utf16le");
}
