// The fast path's SHA-256 gives node:crypto's digests: the index's digest of the environment is
// written by the full CLI and checked by the fast path, both with this function, and a wrong
// implementation would be a weaker hash of secrets than the one it claims to be.
import { createHash } from "node:crypto";
import { expect, test } from "vitest";
import { sha256 } from "../../src/fast-path/sha256.js";

const nodeHex = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex");
const ourHex = (data: Uint8Array): string => Buffer.from(sha256(data)).toString("hex");

test("every length around the block and padding boundaries, and multi-byte text", () => {
  for (let length = 0; length <= 200; length++) {
    const text = "é€𝄞x".repeat(length).slice(0, length);
    expect(ourHex(Buffer.from(text, "utf8"))).toBe(nodeHex(text));
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
    expect(ourHex(bytes)).toBe(nodeHex(bytes));
  }
});

test("a large input hashes as node:crypto does", () => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 0xa5);
  expect(ourHex(big)).toBe(nodeHex(big));
});
