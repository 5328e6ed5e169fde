// Access-token entries: their names (stable, one per identity, no secrets), freshness, parsing,
// and a corrupt entry set aside on a real file store.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStores } from "../../src/cache/stores.js";
import {
  formatTokenEntry,
  isFresh,
  MAX_EXPIRY_AHEAD_MS,
  MIN_REMAINING_MS,
  parseTokenEntry,
  readCachedToken,
  tokenEntryName,
} from "../../src/cache/token-cache.js";

const SECRET = "s3cr3t-value";
// A cache key as a strategy plans it (login/types.ts LoginPlan): mode first, then what makes the token distinct.
const key = [
  "spn",
  "bearer",
  "https://login.microsoftonline.com/",
  "00000000-0000-0000-0000-00000000000a",
  "00000000-0000-0000-0000-00000000000b",
  "6dae42f8-4368-4678-94ff-3960e28e3630/.default",
  "secret",
  SECRET,
];
const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

describe("tokenEntryName", () => {
  it("is a stable hash name", () => {
    // Pinned: a change here invalidates every user's cache, so it must be deliberate.
    expect(tokenEntryName(key)).toBe("token-9edd948ed256f5ed4f527400ce08851972f02a38.json");
    expect(tokenEntryName([...key])).toBe(tokenEntryName(key));
  });

  it.each(key.map((_, i) => [i]))("differs when element %i differs", (i) => {
    const changed = key.map((part, j) => (j === i ? `${part}-other` : part));
    expect(new Set([tokenEntryName(key), tokenEntryName(changed)]).size).toBe(2);
  });

  it("keeps element boundaries: moving text between elements changes the name", () => {
    expect(tokenEntryName(["spn", "a", "b"])).not.toBe(tokenEntryName(["spn", "a,b"]));
    expect(tokenEntryName(["spn", "ab", "c"])).not.toBe(tokenEntryName(["spn", "a", "bc"]));
  });

  it("contains no identity or secret material", () => {
    const name = tokenEntryName([...key, "someone@example.com"]);
    expect(name).toMatch(/^token-[0-9a-f]{40}\.json$/);
    for (const part of [SECRET, "someone", "example", key[3]!, key[4]!, "spn"]) expect(name).not.toContain(part);
  });
});

describe("isFresh", () => {
  it("serves a token only with more than 5 minutes left", () => {
    expect(MIN_REMAINING_MS).toBe(300_000);
    expect(isFresh({ token: "t", expiresOn: NOW + 300_001 }, NOW)).toBe(true);
    expect(isFresh({ token: "t", expiresOn: NOW + 300_000 }, NOW)).toBe(false);
    expect(isFresh({ token: "t", expiresOn: NOW + 60_000 }, NOW)).toBe(false);
    expect(isFresh({ token: "t", expiresOn: NOW - 1 }, NOW)).toBe(false);
  });
});

describe("parseTokenEntry", () => {
  it("reads no entry as a miss", () => {
    expect(parseTokenEntry(null, NOW)).toEqual({ kind: "miss" });
  });

  it("reads a good entry as a hit, expiresOn from seconds to milliseconds", () => {
    expect(parseTokenEntry('{"accessToken":"tok","expiresOn":1704164645,"mode":"spn"}', NOW)).toEqual({
      kind: "hit",
      token: { token: "tok", expiresOn: 1_704_164_645_000 },
    });
  });

  it.each([
    ["bad JSON", "{not json"],
    ["an empty file", ""],
    ["JSON null", "null"],
    ["a JSON array", "[]"],
    ["no accessToken", '{"expiresOn":1704164645}'],
    ["no expiresOn", '{"accessToken":"tok"}'],
    ["an empty accessToken", '{"accessToken":"","expiresOn":1704164645}'],
    ["a non-string accessToken", '{"accessToken":42,"expiresOn":1704164645}'],
    ["expiresOn as a string", '{"accessToken":"tok","expiresOn":"1704164645"}'],
    // Impossible expiries (issue 7 item 5): served, they fail with "Invalid time value" or give
    // kubectl a timestamp it cannot parse.
    ["expiresOn 1e300", '{"accessToken":"tok","expiresOn":1e300}'],
    ["expiresOn in milliseconds", `{"accessToken":"tok","expiresOn":${NOW + 3_600_000}}`],
    ["expiresOn more than a year ahead", `{"accessToken":"tok","expiresOn":${Math.floor((NOW + MAX_EXPIRY_AHEAD_MS) / 1000) + 1}}`],
    ["a negative expiresOn", '{"accessToken":"tok","expiresOn":-1704164645}'],
    ["a zero expiresOn", '{"accessToken":"tok","expiresOn":0}'],
    ["a fractional expiresOn", '{"accessToken":"tok","expiresOn":1704164645.5}'],
    ["an unsafe integer expiresOn", '{"accessToken":"tok","expiresOn":9007199254740993}'],
  ])("reads %s as corrupt", (_, content) => {
    expect(parseTokenEntry(content, NOW)).toEqual({ kind: "corrupt" });
  });

  it("accepts an expiry up to a year ahead, and an expired one (a plain miss later, not corruption)", () => {
    const yearAhead = Math.floor((NOW + MAX_EXPIRY_AHEAD_MS) / 1000);
    expect(parseTokenEntry(`{"accessToken":"tok","expiresOn":${yearAhead}}`, NOW)).toEqual({ kind: "hit", token: { token: "tok", expiresOn: yearAhead * 1000 } });
    expect(parseTokenEntry('{"accessToken":"tok","expiresOn":1}', NOW)).toEqual({ kind: "hit", token: { token: "tok", expiresOn: 1000 } });
  });

  it("bounds the expiry at exactly 366 days ahead, inclusive", () => {
    // A whole-second now, so an expiry can land on the bound itself.
    const now = Date.UTC(2024, 0, 2, 3, 4, 5);
    const day = 24 * 60 * 60;
    const at = (seconds: number): string => `{"accessToken":"tok","expiresOn":${seconds}}`;
    expect(MAX_EXPIRY_AHEAD_MS).toBe(366 * day * 1000);
    expect(parseTokenEntry(at(now / 1000 + 366 * day), now)).toEqual({ kind: "hit", token: { token: "tok", expiresOn: now + 366 * day * 1000 } });
    expect(parseTokenEntry(at(now / 1000 + 366 * day + 1), now)).toEqual({ kind: "corrupt" });
    // A day-long token (Entra's longest) and a 365-day expiry are both well inside it.
    expect(parseTokenEntry(at(now / 1000 + day), now).kind).toBe("hit");
    expect(parseTokenEntry(at(now / 1000 + 365 * day), now).kind).toBe("hit");
  });
});

describe("formatTokenEntry", () => {
  it("writes expiresOn in whole seconds, the mode for a reader, and nothing else of the key", () => {
    const content = formatTokenEntry(key, { token: "tok", expiresOn: 1_704_164_645_999 });
    expect(content).toBe(JSON.stringify({ accessToken: "tok", expiresOn: 1_704_164_645, mode: "spn" }));
    expect(content).not.toContain(SECRET);
    expect(parseTokenEntry(content, NOW)).toEqual({ kind: "hit", token: { token: "tok", expiresOn: 1_704_164_645_000 } });
  });
});

describe("readCachedToken", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kubelogin-token-cache-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("returns a stored token, and undefined for a missing one, without reporting anything", async () => {
    const store = createStores({ cacheDir: dir, now: () => NOW }).accessTokens;
    const reports: (string | undefined)[] = [];
    const name = tokenEntryName(key);
    expect(await readCachedToken(store, name, (aside) => reports.push(aside), NOW)).toBeUndefined();
    await store.write(name, formatTokenEntry(key, { token: "tok", expiresOn: 1_704_164_645_000 }));
    expect(await readCachedToken(store, name, (aside) => reports.push(aside), NOW)).toEqual({ token: "tok", expiresOn: 1_704_164_645_000 });
    expect(reports).toEqual([]);
  });

  it("sets a corrupt entry aside, reports where, and then reads a miss", async () => {
    const store = createStores({ cacheDir: dir, now: () => NOW }).accessTokens;
    const reports: (string | undefined)[] = [];
    const name = tokenEntryName(key);
    await store.write(name, '{"accessToken":"","expiresOn":1}');
    expect(await readCachedToken(store, name, (aside) => reports.push(aside), NOW)).toBeUndefined();
    const aside = join(dir, `${name}.corrupt-2024-01-02T03-04-05-678Z`);
    expect(reports).toEqual([aside]);
    expect(await readFile(aside, "utf8")).toBe('{"accessToken":"","expiresOn":1}');
    expect(await readdir(dir)).toEqual([`${name}.corrupt-2024-01-02T03-04-05-678Z`]);
    expect(await readCachedToken(store, name, (a) => reports.push(a), NOW)).toBeUndefined();
    expect(reports).toEqual([aside]);
  });
});
