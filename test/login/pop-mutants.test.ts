// PoP where pop.test.ts leaves off: claims with an empty key or no "=", a PEM with leading blank
// lines, a key that is not RSA, the binding a PoP plan uses (key part, warnings, a fresh envelope
// per call), the per-store key promise, and which requests get token_type/req_cnf added.
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createFileStore } from "../../src/cache/file-store.js";
import { createStores } from "../../src/cache/stores.js";
import {
  decodePopKey,
  encodePopKey,
  jwkThumbprint,
  parsePopClaims,
  popBindingFor,
  popKeyFor,
  popKeyFrom,
  POP_KEY_ENTRY,
  presentPopToken,
  withPopTokenRequests,
  type PopKey,
} from "../../src/login/pop.js";
import type { LoginDeps } from "../../src/login/types.js";
import { testRuntime } from "../support/runtime.js";

const BAD_CLAIM = "unable to parse PoP claims: failed to parse PoP token claims. Ensure the claims are formatted as `key=value` with no extra whitespace";
const U = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/c";

// popKeyFrom runs in each test's own hook, as in pop.test.ts (Stryker counts no failing beforeAll).
const rsaKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
let key: PopKey;
beforeEach(() => {
  key = popKeyFrom(rsaKey);
});
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-pop-mutants-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as { at: string; ts: number; u: string; nonce: string; cnf: { jwk: { kid: string } } };

test.each(["=x", " =x,u=y", "u=y,x", "u"])("claims %j: a claim with an empty key or no value is refused", (claims) => {
  expect(() => parsePopClaims(claims)).toThrow(BAD_CLAIM);
});

test("a key's thumbprint is the SHA-256 of its RFC 7638 JSON, and it is an RSA key's", () => {
  expect(key.thumbprint).toBe(jwkThumbprint(key.e, key.n));
  expect(key.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(key.e).toBe("AQAB");
  expect(Buffer.from(key.n, "base64url")).toHaveLength(256);
  expect(() => popKeyFrom(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey)).toThrow(/^the PoP key is not an RSA key$/);
});

test("a stored key with blank lines before its PEM block is read", () => {
  expect(decodePopKey(`\n \r\n${encodePopKey(key)}`).thumbprint).toBe(key.thumbprint);
});

test("each envelope: the time of the call in seconds, and a new 32-hex nonce", () => {
  const first = payloadOf(presentPopToken(key, U, "inner.token", 1_900_000_000_999));
  const second = payloadOf(presentPopToken(key, U, "inner.token", 1_900_000_000_999));
  expect([first.at, first.ts, first.u, first.cnf.jwk.kid]).toEqual(["inner.token", 1_900_000_000, U, key.thumbprint]);
  expect(first.nonce).toMatch(/^[0-9a-f]{32}$/);
  expect(second.nonce).toMatch(/^[0-9a-f]{32}$/);
  expect(second.nonce).not.toBe(first.nonce);
});

test("a PoP plan's binding: the cluster, the key part of the cache key, no warning, and envelopes for the cluster", async () => {
  const store = createStores({ cacheDir: dir, now: Date.now }).longLived;
  const binding = await popBindingFor(`x=1,u=${U}`, store);
  expect(binding.u).toBe(U);
  expect(binding.warnings).toEqual([]);
  expect(binding.cacheKeyPart).toEqual(["pop", binding.key.thumbprint, U]);
  expect(decodePopKey(await store.read(POP_KEY_ENTRY) ?? "").thumbprint).toBe(binding.key.thumbprint);
  const payload = payloadOf(binding.present("inner.token", 1_900_000_000_000));
  expect([payload.at, payload.ts, payload.u, payload.cnf.jwk.kid]).toEqual(["inner.token", 1_900_000_000, U, binding.key.thumbprint]);
});

test("a key that cannot be saved: the binding carries upstream's warning", async () => {
  await writeFile(join(dir, "file"), "");
  const store = createStores({ cacheDir: join(dir, "file", "cache"), now: Date.now }).longLived;
  const binding = await popBindingFor(`u=${U}`, store);
  expect(binding.warnings).toHaveLength(1);
  expect(binding.warnings[0]).toMatch(/^failed to persist PoP key to secure storage: /);
});

test("one key per store location in a process; a failed load is tried again on the next call", async () => {
  const store = createStores({ cacheDir: join(dir, "a"), now: Date.now }).longLived;
  const first = popKeyFor(store);
  expect(popKeyFor(createStores({ cacheDir: join(dir, "a"), now: Date.now }).longLived)).toBe(first);
  expect(popKeyFor(createStores({ cacheDir: join(dir, "b"), now: Date.now }).longLived)).not.toBe(first);
  // A store that does not own the key's entry fails the load with a plain error.
  const refusing = createFileStore({ dir: join(dir, "c"), now: Date.now, owns: () => false });
  const failed = popKeyFor(refusing);
  await expect(failed).rejects.toThrow(`does not own the entry ${POP_KEY_ENTRY}`);
  const again = popKeyFor(refusing);
  expect(again).not.toBe(failed);
  await expect(again).rejects.toThrow(`does not own the entry ${POP_KEY_ENTRY}`);
});

describe("token_type and req_cnf are added", () => {
  const recorded: { url: string; body: unknown }[] = [];
  // withPopTokenRequests only wraps the runtime's fetch; the rest of the deps passes through.
  const deps = () => {
    recorded.length = 0;
    const rt = testRuntime({ fetch: async (input, init) => (recorded.push({ url: input instanceof Request ? input.url : String(input), body: init?.body }), new Response("{}")) });
    const wrapped = withPopTokenRequests({ rt, signal: AbortSignal.timeout(60_000) } as unknown as LoginDeps, key);
    // The other deps and the rest of the runtime are the same objects.
    expect([wrapped.signal.aborted, wrapped.rt.stderr, wrapped.rt.clock]).toEqual([false, rt.stderr, rt.clock]);
    expect(wrapped.rt.stderr).toBe(rt.stderr);
    return wrapped;
  };
  const extra = () => `token_type=pop&req_cnf=${Buffer.from(`{"kid":"${key.thumbprint}","xms_ksl":"sw"}`).toString("base64url")}`;

  test("to a token request's form body, given as a URL or a Request", async () => {
    const wrapped = deps();
    await wrapped.rt.fetch("https://login.example/t/oauth2/v2.0/token", { method: "POST", body: "grant_type=password" });
    await wrapped.rt.fetch(new Request("https://login.example/t/oauth2/v2.0/token?x=1", { method: "POST" }), { method: "POST", body: "a=b" });
    expect(recorded).toEqual([
      { url: "https://login.example/t/oauth2/v2.0/token", body: `grant_type=password&${extra()}` },
      { url: "https://login.example/t/oauth2/v2.0/token?x=1", body: `a=b&${extra()}` },
    ]);
  });

  test("to nothing else: a GET, another path, a body that is not text, no init", async () => {
    const wrapped = deps();
    await wrapped.rt.fetch("https://login.example/t/oauth2/v2.0/token", { method: "GET" });
    await wrapped.rt.fetch("https://login.example/t/oauth2/v2.0/token/x", { method: "POST", body: "a=b" });
    await wrapped.rt.fetch("https://login.example/oauth2/v2.0/token.json", { method: "POST", body: "a=b" });
    await wrapped.rt.fetch("https://login.example/t/oauth2/v2.0/token", { method: "POST", body: new URLSearchParams("a=b") });
    await wrapped.rt.fetch("https://login.example/t/oauth2/v2.0/token");
    expect(recorded.map((r) => r.body)).toEqual([undefined, "a=b", "a=b", new URLSearchParams("a=b"), undefined]);
  });
});
