// Access tokens of every mode, cached until shortly before expiry (decisions 2 and 3). Reading
// one needs only fs, crypto and JSON, so a cached get-token never loads MSAL.
import { createHash } from "node:crypto";
import type { TokenStore } from "./store.js";

/** A token with less than this left is not served; kubectl would otherwise hold a dying token. */
export const MIN_REMAINING_MS = 5 * 60_000;

export interface CachedToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresOn: number;
}

/**
 * The entry name for a strategy's cache key (login/types.ts LoginPlan): a hash, so no secret and
 * no user name ever appears in a file name. The key's first element is the login mode.
 */
export function tokenEntryName(cacheKey: readonly string[]): string {
  const digest = createHash("sha256").update(JSON.stringify(["kubelogin-token-v2", ...cacheKey])).digest("hex");
  return `token-${digest.slice(0, 40)}.json`;
}

export function isFresh(token: CachedToken, now: number): boolean {
  return token.expiresOn - now > MIN_REMAINING_MS;
}

export type CacheRead = { kind: "hit"; token: CachedToken } | { kind: "miss" } | { kind: "corrupt" };

/**
 * No real token lives this long (Entra's longest are about a day). A later expiry is not a token's:
 * milliseconds written where seconds belong, or a damaged file, and serving it would give kubectl
 * a timestamp it cannot parse.
 */
export const MAX_EXPIRY_AHEAD_MS = 366 * 24 * 60 * 60_000;

/** `now` bounds a plausible expiry: an entry expiring more than MAX_EXPIRY_AHEAD_MS later is corrupt. */
export function parseTokenEntry(content: string | null, now: number): CacheRead {
  if (content === null) return { kind: "miss" };
  try {
    const entry = JSON.parse(content) as { accessToken?: unknown; expiresOn?: unknown };
    const { accessToken, expiresOn } = entry;
    if (typeof accessToken === "string" && accessToken !== "" && isPlausibleExpiry(expiresOn, now)) {
      return { kind: "hit", token: { token: accessToken, expiresOn: expiresOn * 1000 } };
    }
  } catch {
    // Falls through to "corrupt".
  }
  return { kind: "corrupt" };
}

/** Whole seconds since the epoch, after 1970 and at most MAX_EXPIRY_AHEAD_MS from now (a past expiry is a plain miss later). */
function isPlausibleExpiry(seconds: unknown, now: number): seconds is number {
  return isSafeInteger(seconds) && seconds > 0 && seconds * 1000 - now <= MAX_EXPIRY_AHEAD_MS;
}

/** Number.isSafeInteger, which is false for every non-number, as a type guard (no typeof check beside it that could never decide). */
const isSafeInteger = (value: unknown): value is number => Number.isSafeInteger(value);

export function formatTokenEntry(cacheKey: readonly string[], token: CachedToken): string {
  // The mode helps a person reading the cache dir; only the name's hash is used for lookup.
  return JSON.stringify({ accessToken: token.token, expiresOn: Math.floor(token.expiresOn / 1000), mode: cacheKey[0] });
}

/** Reads an entry; a corrupt one is set aside (and reported) so it is rebuilt, never fatal. */
export async function readCachedToken(
  store: TokenStore,
  name: string,
  onCorrupt: (setAsidePath: string | undefined) => void,
  now: number,
): Promise<CachedToken | undefined> {
  const read = parseTokenEntry(await store.read(name), now);
  if (read.kind === "hit") return read.token;
  if (read.kind === "corrupt") onCorrupt(await store.setAside(name));
  return undefined;
}
