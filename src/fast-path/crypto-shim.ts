// What the fast path's bundle gets for `node:crypto` (scripts/build.mjs aliases it): the sha256
// hex digests a cache hit computes (entry names, credential fingerprints), without loading
// node:crypto (sha256.ts says why). Anything else is the cold path's: it throws, and the fast
// path hands the run over to the full CLI.
import { sha256 } from "./sha256.js";

export class ColdPathOnly extends Error {}

interface Hash {
  update(data: string | Uint8Array): Hash;
  digest(encoding: "hex"): string;
}

export function createHash(algorithm: string): Hash {
  if (algorithm !== "sha256") throw new ColdPathOnly(`createHash(${algorithm})`);
  const parts: Uint8Array[] = [];
  const hash: Hash = {
    update(data) {
      parts.push(typeof data === "string" ? Buffer.from(data, "utf8") : data);
      return hash;
    },
    digest(encoding) {
      if (encoding !== "hex") throw new ColdPathOnly(`digest(${String(encoding)})`);
      return Buffer.from(sha256(Buffer.concat(parts))).toString("hex");
    },
  };
  return hash;
}

const coldPathOnly = (name: string) => (): never => {
  throw new ColdPathOnly(name);
};
export const randomBytes = coldPathOnly("randomBytes");
export const randomUUID = coldPathOnly("randomUUID");
// PoP keys and envelopes (login/pop.ts): a PoP hit is the full CLI's to present.
export const createPrivateKey = coldPathOnly("createPrivateKey");
export const createPublicKey = coldPathOnly("createPublicKey");
export const generateKeyPair = coldPathOnly("generateKeyPair");
export const sign = coldPathOnly("sign");
