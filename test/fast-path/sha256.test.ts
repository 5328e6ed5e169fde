// The fast path's SHA-256 and its node:crypto stand-in give node:crypto's digests: the entry names
// and credential fingerprints the fast path computes must be the full CLI's, byte for byte.
import { createHash as nodeCreateHash } from "node:crypto";
import { expect, test } from "vitest";
import { createHash } from "../../src/fast-path/crypto-shim.js";

const nodeHex = (data: string | Uint8Array): string => nodeCreateHash("sha256").update(data).digest("hex");

test("every length around the block and padding boundaries, and multi-byte text", () => {
  for (let length = 0; length <= 200; length++) {
    const text = "é€𝄞x".repeat(length).slice(0, length);
    expect(createHash("sha256").update(text).digest("hex")).toBe(nodeHex(text));
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(nodeHex(bytes));
  }
});

test("updates concatenate, and a large input hashes as node:crypto does", () => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 0xa5);
  expect(createHash("sha256").update("kubelogin").update(big).update("").digest("hex")).toBe(nodeCreateHash("sha256").update("kubelogin").update(big).digest("hex"));
});

test("anything but a sha256 hex digest is left to the cold path", () => {
  expect(() => createHash("sha1")).toThrow(/sha1/);
});
