// PoP pieces (compat spec §3.13): claims parsing with upstream's texts, the RFC 7638 thumbprint,
// req_cnf, the exact envelope, the key's PEM form and persistence; and the claims errors as
// get-token reports them for each PoP mode.
import { createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, expect, test } from "vitest";
import { createStores } from "../../src/cache/stores.js";
import { run } from "../../src/cli/run.js";
import {
  decodePopKey,
  encodePopKey,
  formatPopToken,
  jwkThumbprint,
  loadOrCreatePopKey,
  parsePopClaims,
  popKeyFrom,
  popTokenRequestParams,
  POP_KEY_ENTRY,
  type PopKey,
} from "../../src/login/pop.js";
import { testRuntime } from "../support/runtime.js";

const NO_CLAIMS = "unable to parse PoP claims: failed to parse PoP token claims: no claims provided";
const BAD_CLAIM = "unable to parse PoP claims: failed to parse PoP token claims. Ensure the claims are formatted as `key=value` with no extra whitespace";
const NO_U = "unable to parse PoP claims: required u-claim not provided for PoP token flow. Please provide the ARM ID of the cluster in the format `u=<ARM_ID>`";

test.each([
  ["", NO_CLAIMS],
  ["   ", NO_CLAIMS],
  ["claim1=val1,claim2", BAD_CLAIM],
  ["claim1=  ", BAD_CLAIM],
  [",,,,,,,,", BAD_CLAIM],
  ["invalid-format", BAD_CLAIM],
  ["1=2,3=4", NO_U],
])("claims %j: %s", (claims, message) => {
  expect(() => parsePopClaims(claims)).toThrow(message);
});

test.each(['u=a"b', "u=a\\b", "u=/ok,x=tab\there", "u=line\nbreak"])("claims %j: refused, as the envelope would not be JSON", (claims) => {
  expect(() => parsePopClaims(claims)).toThrow(/^unable to parse PoP claims: the value of claim "[ux]" contains a double quote, a backslash or a control character$/);
});

test("claims are trimmed, extra = parts dropped, and every claim kept", () => {
  expect(Object.fromEntries(parsePopClaims("u=val1, claim2=val2, claim3=val3"))).toEqual({ u: "val1", claim2: "val2", claim3: "val3" });
  expect(parsePopClaims("u=a=b").get("u")).toBe("a");
});

test("the thumbprint is RFC 7638's (its worked example)", () => {
  const n =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
  expect(jwkThumbprint("AQAB", n)).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
});

// popKeyFrom runs in each test's own hook, not at import or in beforeAll: Stryker's runner counts
// neither a file that fails to load nor a failing beforeAll as a failed test.
const rsaKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
let key: PopKey;
beforeEach(() => {
  key = popKeyFrom(rsaKey);
});

test("req_cnf is base64url of the exact JSON text naming the thumbprint", () => {
  const params = popTokenRequestParams(key);
  expect(params.token_type).toBe("pop");
  expect(Buffer.from(params.req_cnf!, "base64url").toString()).toBe(`{"kid":"${key.thumbprint}","xms_ksl":"sw"}`);
  expect(params.req_cnf).not.toMatch(/[=+/]/);
});

test("the envelope has upstream's exact header and payload text, and an RS256 signature matching one made independently", () => {
  const inputs = { accessToken: "inner.access.token", u: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/c", ts: 1_900_000_000, nonce: "0123456789abcdef0123456789abcdef" };
  const token = formatPopToken(key, inputs);
  const [header, payload, signature] = token.split(".") as [string, string, string];
  expect(Buffer.from(header, "base64url").toString()).toBe(`{"typ":"pop","alg":"RS256","kid":"${key.thumbprint}"}`);
  expect(Buffer.from(payload, "base64url").toString()).toBe(
    `{"at":"inner.access.token","ts":1900000000,"u":"${inputs.u}","cnf":{"jwk":{"e":"${key.e}","kty":"RSA","n":"${key.n}","alg":"RS256","kid":"${key.thumbprint}"}},"nonce":"${inputs.nonce}"}`,
  );
  expect(token).not.toMatch(/=/);
  expect(signature).toBe(sign("sha256", Buffer.from(`${header}.${payload}`), key.privateKey).toString("base64url"));
  const jwk = createPublicKey(key.privateKey).export({ format: "jwk" });
  expect(verify("sha256", Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(signature, "base64url"))).toBe(true);
});

test("the key round-trips through PEM RSA PRIVATE KEY; another block type is refused", () => {
  const pem = encodePopKey(key);
  expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
  expect(decodePopKey(pem).thumbprint).toBe(key.thumbprint);
  const pkcs8 = key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  expect(() => decodePopKey(pkcs8)).toThrow("invalid PEM block type");
});

test("the key is created once and reused from the store; an unreadable one is replaced", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kubelogin-pop-"));
  const store = createStores({ cacheDir: dir, now: Date.now }).longLived;
  const created = await loadOrCreatePopKey(store);
  expect(created.warning).toBeUndefined();
  expect((await loadOrCreatePopKey(store)).key.thumbprint).toBe(created.key.thumbprint);
  await writeFile(join(dir, POP_KEY_ENTRY), "not a key");
  const replaced = await loadOrCreatePopKey(store);
  expect(replaced.key.thumbprint).not.toBe(created.key.thumbprint);
  expect(decodePopKey(await readFile(join(dir, POP_KEY_ENTRY), "utf8")).thumbprint).toBe(replaced.key.thumbprint);
});

test("a key that cannot be saved is used for this run, with upstream's warning", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kubelogin-pop-"));
  // A cache dir under a regular file cannot be created, for root too.
  await writeFile(join(dir, "file"), "");
  const store = createStores({ cacheDir: join(dir, "file", "cache"), now: Date.now }).longLived;
  const loaded = await loadOrCreatePopKey(store);
  expect(loaded.key.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(loaded.warning).toMatch(/^failed to persist PoP key to secure storage: /);
});

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const modeArgs: Record<string, string[]> = {
  spn: ["-l", "spn", "--client-id", "c", "--tenant-id", "t", "--client-secret", "s"],
  "spn certificate": ["-l", "spn", "--client-id", "c", "--tenant-id", "t", "--client-certificate", "/nonexistent.pem"],
  ropc: ["-l", "ropc", "--client-id", "c", "--tenant-id", "t", "--username", "u", "--password", "p"],
  interactive: ["-l", "interactive", "--client-id", "c", "--tenant-id", "t"],
};
test.each(
  Object.keys(modeArgs).flatMap((mode) => [
    [mode, "   ", NO_CLAIMS],
    [mode, "claim1=val1,claim2", BAD_CLAIM],
    [mode, "1=2,3=4", NO_U],
  ]),
)("get-token %s with --pop-claims %j fails with upstream's text", async (mode, claims, message) => {
  const rt = testRuntime();
  const cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-pop-"));
  expect(await run(["get-token", "--server-id", SERVER_ID, ...modeArgs[mode]!, "--cache-dir", cacheDir, "--pop-enabled", "--pop-claims", claims], rt)).toBe(1);
  expect(rt.stderr.text()).toMatch(new RegExp(`^Error: failed to create azidentity credential: ${message.replace(/[.*+?^${}()|[\]\\`]/g, "\\$&")}\nhint: --pop-claims takes`));
});

test("get-token with a double quote in --pop-claims fails before any request, naming the claim, with a hint", async () => {
  const rt = testRuntime();
  const cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-pop-"));
  expect(await run(["get-token", "--server-id", SERVER_ID, ...modeArgs.spn!, "--cache-dir", cacheDir, "--pop-enabled", "--pop-claims", 'u=a"b', "--authority-host", "https://127.0.0.1:1/"], rt)).toBe(1);
  expect(rt.stderr.text()).toBe(
    'Error: failed to create azidentity credential: unable to parse PoP claims: the value of claim "u" contains a double quote, a backslash or a control character\n' +
      'hint: the PoP token carries the claims inside JSON strings as they are (as upstream does), so these characters would make it invalid; an ARM ID never holds them: --pop-claims "u=/subscriptions/…/connectedClusters/<name>"\n',
  );
});

test("without --pop-enabled nothing about PoP happens: no key is created", async () => {
  const rt = testRuntime();
  const cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-pop-"));
  expect(await run(["get-token", "--server-id", SERVER_ID, ...modeArgs.spn!, "--cache-dir", cacheDir, "--authority-host", "https://127.0.0.1:1/", "--timeout", "2s"], rt)).toBe(1);
  await expect(readFile(join(cacheDir, POP_KEY_ENTRY))).rejects.toMatchObject({ code: "ENOENT" });
});
