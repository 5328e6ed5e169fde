// What the fast path's bundle gets for `node:fs/promises` (scripts/build.mjs aliases it): the
// reads a plan does (stat a certificate, read an auth record or a CLI profile), done with the
// synchronous calls, so a cache hit does not load the promises API (internal/fs/promises and the
// stream classes behind it, +4 ms). The results and errors are the same objects. A cache hit
// writes nothing: the writes are the cold path's and throw, which hands the run over to it.
import { readFileSync, statSync } from "node:fs";
import { ColdPathOnly } from "./crypto-shim.js";

export async function readFile(path: string, options?: BufferEncoding | { encoding?: BufferEncoding | null }): Promise<string | Buffer> {
  return readFileSync(path, options);
}

export async function stat(path: string): Promise<ReturnType<typeof statSync>> {
  return statSync(path);
}

const coldPathOnly = (name: string) => async (): Promise<never> => {
  throw new ColdPathOnly(`fs/promises ${name}`);
};
export const open = coldPathOnly("open");
export const mkdir = coldPathOnly("mkdir");
export const rename = coldPathOnly("rename");
export const unlink = coldPathOnly("unlink");
export const readdir = coldPathOnly("readdir");
export const utimes = coldPathOnly("utimes");
export const realpath = coldPathOnly("realpath");
