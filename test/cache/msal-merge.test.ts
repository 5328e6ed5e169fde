// The three-way merge of MSAL's cache blob: what this process changed wins, the rest stays as the
// store has it now (another process's sign-in, its newer refresh token, its removals).
import { describe, expect, test } from "vitest";
import { mergeMsalCache } from "../../src/cache/msal-merge.js";

const rt = (secret: string) => ({ credential_type: "RefreshToken", secret });
const blob = (refreshTokens: Record<string, object>, extra: object = {}) =>
  JSON.stringify({ Account: {}, IdToken: {}, AccessToken: {}, RefreshToken: refreshTokens, AppMetadata: {}, ...extra });
const parsed = (text: string) => JSON.parse(text) as { RefreshToken: Record<string, unknown> } & Record<string, unknown>;

describe("mergeMsalCache", () => {
  test("two sign-ins that both started from an empty cache both survive", () => {
    const first = blob({ a: rt("A1") });
    const second = blob({ b: rt("B1") });
    expect(parsed(mergeMsalCache(null, second, first)).RefreshToken).toEqual({ a: rt("A1"), b: rt("B1") });
  });

  test("an entry this process did not touch keeps the store's newer version", () => {
    const base = blob({ a: rt("A1") });
    const mine = blob({ a: rt("A1"), b: rt("B1") });
    const current = blob({ a: rt("A2") });
    expect(parsed(mergeMsalCache(base, mine, current)).RefreshToken).toEqual({ a: rt("A2"), b: rt("B1") });
  });

  test("an entry this process changed wins", () => {
    expect(parsed(mergeMsalCache(blob({ a: rt("A1") }), blob({ a: rt("A3") }), blob({ a: rt("A2") }))).RefreshToken).toEqual({ a: rt("A3") });
  });

  test("a removal here is kept unless another process replaced the entry meanwhile", () => {
    expect(parsed(mergeMsalCache(blob({ a: rt("A1") }), blob({}), blob({ a: rt("A1"), c: rt("C") }))).RefreshToken).toEqual({ c: rt("C") });
    expect(parsed(mergeMsalCache(blob({ a: rt("A1") }), blob({}), blob({ a: rt("A2") }))).RefreshToken).toEqual({ a: rt("A2") });
  });

  test("an entry another process removed stays removed when this one did not touch it", () => {
    expect(parsed(mergeMsalCache(blob({ a: rt("A1"), b: rt("B") }), blob({ a: rt("A1"), b: rt("B") }), blob({ b: rt("B") }))).RefreshToken).toEqual({ b: rt("B") });
  });

  test("nothing usable in the store (none, corrupt, not an object): this process's blob is written as is", () => {
    const mine = blob({ a: rt("A1") });
    expect(mergeMsalCache(null, mine, null)).toBe(mine);
    expect(mergeMsalCache(null, mine, "{not json")).toBe(mine);
    expect(mergeMsalCache(null, mine, "[1]")).toBe(mine);
    expect(mergeMsalCache(null, mine, "null")).toBe(mine);
    expect(mergeMsalCache(null, mine, "")).toBe(mine);
  });

  test("top-level values that are not sections follow the same rule", () => {
    const out = parsed(mergeMsalCache(blob({}, { Version: 1 }), blob({}, { Version: 2 }), blob({}, { Version: 1, Other: { x: 1 } })));
    expect(out.Version).toBe(2);
    expect(out.Other).toEqual({ x: 1 });
  });

  test("a top-level value this process did not change keeps the store's, with or without a base", () => {
    expect(parsed(mergeMsalCache(blob({}, { Version: 1 }), blob({}, { Version: 1 }), blob({}, { Version: 2 }))).Version).toBe(2);
    const out = parsed(mergeMsalCache(null, blob({}, { Version: 1 }), blob({ a: rt("A1") }, { Other: "x" })));
    expect(out).toMatchObject({ Version: 1, Other: "x", RefreshToken: { a: rt("A1") } });
    expect(parsed(mergeMsalCache("", blob({}, { Version: 1 }), blob({})))).toMatchObject({ Version: 1 });
  });

  test("a section the store has in another shape is replaced whole by this process's changed one", () => {
    const base = blob({ a: rt("A1") });
    const mine = blob({ a: rt("A1"), b: rt("B1") });
    expect(parsed(mergeMsalCache(base, mine, blob({}, { RefreshToken: "damaged" }))).RefreshToken).toEqual({ a: rt("A1"), b: rt("B1") });
    expect(parsed(mergeMsalCache(base, mine, blob({}, { RefreshToken: { x: 1 } }))).RefreshToken).toEqual({ a: rt("A1"), b: rt("B1") });
    // And this process's section in another shape replaces the store's, when it changed it.
    expect(parsed(mergeMsalCache(base, blob({}, { RefreshToken: [] }), blob({ c: rt("C") }))).RefreshToken).toEqual([]);
  });
});
