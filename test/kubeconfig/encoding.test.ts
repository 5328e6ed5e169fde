// decodeKubeconfig/encodeKubeconfig byte by byte, as go-yaml v2's reader (readerc.go) judges a
// stream: the BOM picks the encoding, malformed sequences and characters outside YAML's printable
// set are refused with go-yaml's texts, and what is accepted comes back exactly.
import { describe, expect, test } from "vitest";
import { decodeKubeconfig, encodeKubeconfig, KubeconfigDecodeError, type KubeconfigEncoding } from "../../src/kubeconfig/encoding.js";

const utf8 = (codePoint: number): Buffer => Buffer.from(String.fromCodePoint(codePoint), "utf8");
/** A code point's UTF-8 bytes without Node's checks (surrogates, values past U+10FFFF). */
function rawUtf8(value: number): Buffer {
  if (value < 0x80) return Buffer.from([value]);
  if (value < 0x800) return Buffer.from([0xc0 | (value >> 6), 0x80 | (value & 0x3f)]);
  if (value < 0x10000) return Buffer.from([0xe0 | (value >> 12), 0x80 | ((value >> 6) & 0x3f), 0x80 | (value & 0x3f)]);
  return Buffer.from([0xf0 | (value >> 18), 0x80 | ((value >> 12) & 0x3f), 0x80 | ((value >> 6) & 0x3f), 0x80 | (value & 0x3f)]);
}
const utf16 = (units: number[], littleEndian: boolean): Buffer => {
  const body = Buffer.alloc(units.length * 2);
  units.forEach((unit, i) => (littleEndian ? body.writeUInt16LE(unit, i * 2) : body.writeUInt16BE(unit, i * 2)));
  return Buffer.concat([Buffer.from(littleEndian ? [0xff, 0xfe] : [0xfe, 0xff]), body]);
};
const refusal = (bytes: Uint8Array): string | undefined => {
  try {
    decodeKubeconfig(bytes);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(KubeconfigDecodeError);
    return (err as Error).message;
  }
};

/** YAML's printable set (go-yaml's is_printable on decoded characters), at each edge. */
const ALLOWED = [0x09, 0x0a, 0x0d, 0x20, 0x41, 0x7e, 0x85, 0xa0, 0xe9, 0xd7ff, 0xe000, 0xfffd, 0x10000, 0x1f600, 0x10ffff];
const NOT_ALLOWED = [0x00, 0x08, 0x0b, 0x0c, 0x0e, 0x1f, 0x7f, 0x80, 0x84, 0x86, 0x9f, 0xfffe, 0xffff];

describe("decodeKubeconfig: UTF-8", () => {
  test.each(ALLOWED.map((c) => [c.toString(16), c]))("accepts U+%s, alone, after ASCII and after a multibyte character", (_, codePoint) => {
    for (const bytes of [utf8(codePoint), Buffer.concat([Buffer.from("a: b"), utf8(codePoint), Buffer.from("\n")]), Buffer.concat([utf8(0xe9), utf8(codePoint)])]) {
      expect(decodeKubeconfig(bytes)).toEqual({ text: bytes.toString("utf8"), encoding: "utf8" });
    }
  });

  test.each(NOT_ALLOWED.map((c) => [c.toString(16), c]))("refuses U+%s as a control character, alone and after ASCII", (_, codePoint) => {
    expect(refusal(utf8(codePoint))).toBe("yaml: control characters are not allowed");
    expect(refusal(Buffer.concat([Buffer.from("a: b\n"), utf8(codePoint)]))).toBe("yaml: control characters are not allowed");
    expect(refusal(Buffer.concat([utf8(0xe9), utf8(codePoint)]))).toBe("yaml: control characters are not allowed");
  });

  test.each([
    ["a surrogate (U+D800)", rawUtf8(0xd800), "yaml: invalid Unicode character"],
    ["a surrogate (U+DFFF)", rawUtf8(0xdfff), "yaml: invalid Unicode character"],
    ["a value past U+10FFFF", rawUtf8(0x110000), "yaml: invalid Unicode character"],
    ["an overlong 2-byte form", Buffer.from([0xc1, 0xbf]), "yaml: invalid length of a UTF-8 sequence"],
    ["an overlong 3-byte form", Buffer.from([0xe0, 0x9f, 0xbf]), "yaml: invalid length of a UTF-8 sequence"],
    ["an overlong 4-byte form", Buffer.from([0xf0, 0x8f, 0xbf, 0xbf]), "yaml: invalid length of a UTF-8 sequence"],
    ["a lone continuation byte", Buffer.from([0x80]), "yaml: invalid leading UTF-8 octet"],
    ["a 5-byte leader", Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), "yaml: invalid leading UTF-8 octet"],
    ["a 2-byte leader at the end", Buffer.from([0x41, 0xc3]), "yaml: incomplete UTF-8 octet sequence"],
    ["a 3-byte sequence one short", Buffer.from([0xe2, 0x82]), "yaml: incomplete UTF-8 octet sequence"],
    ["a 4-byte sequence one short", Buffer.from([0xf0, 0x9f, 0x98]), "yaml: incomplete UTF-8 octet sequence"],
    ["a bad second byte", Buffer.from([0xc3, 0x41]), "yaml: invalid trailing UTF-8 octet"],
    ["a bad last byte", Buffer.from([0xf0, 0x9f, 0x98, 0xc0]), "yaml: invalid trailing UTF-8 octet"],
  ])("refuses %s", (_, bytes, message) => {
    expect(refusal(bytes)).toBe(message);
  });

  test("accepts the shortest form at each width's lower edge", () => {
    for (const value of [0x80 + 0x20, 0x800, 0x10000]) {
      const bytes = rawUtf8(value);
      expect(decodeKubeconfig(bytes).text).toBe(String.fromCodePoint(value));
    }
  });

  test("decodes ASCII up to a multibyte character and on after it", () => {
    const text = "users:\n- name: \u00fcber-\u{1F600}\n  user: {token: t}\n";
    expect(decodeKubeconfig(Buffer.from(text, "utf8"))).toEqual({ text, encoding: "utf8" });
  });

  test("decodes a view into a larger buffer from its own offset", () => {
    const whole = Buffer.from("xxxxa: \u00e9\n", "utf8");
    expect(decodeKubeconfig(whole.subarray(4)).text).toBe("a: \u00e9\n");
    expect(decodeKubeconfig(new Uint8Array(whole.buffer, whole.byteOffset + 4, whole.length - 4)).text).toBe("a: \u00e9\n");
  });

  test("a BOM makes it utf8-bom, and is not part of the text", () => {
    expect(decodeKubeconfig(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toEqual({ text: "a", encoding: "utf8-bom" });
    // Only the whole BOM counts: its first bytes alone are plain (and here malformed) UTF-8.
    expect(refusal(Buffer.from([0xef, 0xbb, 0x61]))).toBe("yaml: invalid trailing UTF-8 octet");
    expect(decodeKubeconfig(Buffer.alloc(0))).toEqual({ text: "", encoding: "utf8" });
  });
});

describe("decodeKubeconfig: UTF-16", () => {
  test.each([true, false])("littleEndian %s: decodes BMP and surrogate pairs, each allowed character", (littleEndian) => {
    const units = [0x61, 0x3a, 0x20, 0xe9, 0xd83d, 0xde00, 0x0a, 0xfffd, 0xd7ff, 0xe000, 0xdbff, 0xdfff];
    expect(decodeKubeconfig(utf16(units, littleEndian))).toEqual({
      text: `a: \u00e9\u{1F600}\n\ufffd\ud7ff\ue000\u{10FFFF}`,
      encoding: littleEndian ? "utf16le" : "utf16be",
    });
  });

  test.each([true, false])("littleEndian %s: refuses what go-yaml refuses", (littleEndian) => {
    const bom = Buffer.from(littleEndian ? [0xff, 0xfe] : [0xfe, 0xff]);
    expect(refusal(Buffer.concat([bom, Buffer.from([0x61])]))).toBe("yaml: incomplete UTF-16 character");
    expect(refusal(Buffer.concat([utf16([0x61], littleEndian), Buffer.from([0x61])]))).toBe("yaml: incomplete UTF-16 character");
    expect(refusal(utf16([0xdc00], littleEndian))).toBe("yaml: unexpected low surrogate area");
    expect(refusal(utf16([0xdfff], littleEndian))).toBe("yaml: unexpected low surrogate area");
    expect(refusal(utf16([0xd800], littleEndian))).toBe("yaml: incomplete UTF-16 surrogate pair");
    expect(refusal(Buffer.concat([utf16([0xd800], littleEndian), Buffer.from([0x00])]))).toBe("yaml: incomplete UTF-16 surrogate pair");
    expect(refusal(utf16([0xd800, 0x61], littleEndian))).toBe("yaml: expected low surrogate area");
    expect(refusal(utf16([0xdbff, 0xd800], littleEndian))).toBe("yaml: expected low surrogate area");
    expect(refusal(utf16([0x61, 0x00], littleEndian))).toBe("yaml: control characters are not allowed");
    expect(refusal(utf16([0xfffe], littleEndian))).toBe("yaml: control characters are not allowed");
  });

  const units = (codePoint: number): number[] => [...String.fromCodePoint(codePoint)].flatMap((c) => [c.charCodeAt(0), c.charCodeAt(1)]).filter((u) => !Number.isNaN(u));
  test.each(ALLOWED.map((c) => [c.toString(16), c]))("accepts U+%s in both byte orders", (_, codePoint) => {
    for (const littleEndian of [true, false]) expect(decodeKubeconfig(utf16(units(codePoint), littleEndian)).text).toBe(String.fromCodePoint(codePoint));
  });
  test.each(NOT_ALLOWED.map((c) => [c.toString(16), c]))("refuses U+%s in both byte orders", (_, codePoint) => {
    for (const littleEndian of [true, false]) expect(refusal(utf16(units(codePoint), littleEndian))).toBe("yaml: control characters are not allowed");
  });
  test("a surrogate pair's value is judged, not its units: U+10001 is allowed", () => {
    expect(decodeKubeconfig(utf16([0xd800, 0xdc01], true)).text).toBe("\u{10001}");
  });

  test("the BOM's two bytes must both match", () => {
    // Each is malformed UTF-8 when the first byte is not the BOM's.
    expect(refusal(Buffer.from([0x61, 0xfe]))).toBe("yaml: invalid leading UTF-8 octet");
    expect(refusal(Buffer.from([0x61, 0xff]))).toBe("yaml: invalid leading UTF-8 octet");
    expect(refusal(Buffer.from([0x61, 0xbb, 0xbf]))).toBe("yaml: invalid leading UTF-8 octet");
    expect(refusal(Buffer.from([0xff, 0x61]))).toBe("yaml: invalid leading UTF-8 octet");
    expect(refusal(Buffer.from([0xfe, 0x61]))).toBe("yaml: invalid leading UTF-8 octet");
    expect(decodeKubeconfig(Buffer.from([0xff, 0xfe]))).toEqual({ text: "", encoding: "utf16le" });
    expect(decodeKubeconfig(Buffer.from([0xfe, 0xff]))).toEqual({ text: "", encoding: "utf16be" });
  });
});

describe("encodeKubeconfig", () => {
  const text = "a: \u00e9\u{1F600}\n";
  test.each([
    ["utf8", Buffer.from(text, "utf8")],
    ["utf8-bom", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")])],
    ["utf16le", utf16([...Buffer.from(text, "utf16le")].reduce<number[]>((units, byte, i, all) => (i % 2 ? units : [...units, byte + (all[i + 1]! << 8)]), []), true)],
    ["utf16be", utf16([...Buffer.from(text, "utf16le")].reduce<number[]>((units, byte, i, all) => (i % 2 ? units : [...units, byte + (all[i + 1]! << 8)]), []), false)],
  ] as const)("writes %s with its BOM, and reads back the same", (encoding: KubeconfigEncoding, bytes) => {
    expect(encodeKubeconfig(text, encoding)).toEqual(bytes);
    expect(decodeKubeconfig(bytes)).toEqual({ text, encoding });
  });
});
