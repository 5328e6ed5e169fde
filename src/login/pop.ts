// Proof-of-possession tokens for Azure Arc (compat spec §3.13, §4.3). Entra binds the access token
// to our RSA key (`token_type=pop`, `req_cnf` naming the key's RFC 7638 thumbprint); what kubectl
// presents is a JWS signed with that key, wrapping the access token with a fresh time and nonce.
// The access-token cache keeps the inner Entra token; the envelope is made on every call, cache
// hits included (LoginPlan.present). Only node:crypto here: this runs on the cached path.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomUUID, sign, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { CacheError, ValidationError } from "../errors.js";
import type { TokenStore } from "../cache/store.js";
import type { Runtime } from "../runtime.js";
import type { LoginDeps } from "./types.js";

const messages = {
  noClaims: "failed to parse PoP token claims: no claims provided",
  badClaim: "failed to parse PoP token claims. Ensure the claims are formatted as `key=value` with no extra whitespace",
  noU: "required u-claim not provided for PoP token flow. Please provide the ARM ID of the cluster in the format `u=<ARM_ID>`",
  claimsHint: "--pop-claims takes comma-separated key=value pairs and needs u=<ARM ID of the cluster>, e.g. --pop-claims \"u=/subscriptions/…/resourceGroups/…/providers/Microsoft.Kubernetes/connectedClusters/<name>\"",
  persistFailed: (reason: string) => `failed to persist PoP key to secure storage: ${reason}`,
  unquotable: (key: string) => `the value of claim ${JSON.stringify(key)} contains a double quote, a backslash or a control character`,
  unquotableHint:
    'the PoP token carries the claims inside JSON strings as they are (as upstream does), so these characters would make it invalid; an ARM ID never holds them: --pop-claims "u=/subscriptions/…/connectedClusters/<name>"',
  invalidPemBlock: "invalid PEM block type",
} as const;

/** The store entry of the key, upstream's file name (compat spec §4.3). */
export const POP_KEY_ENTRY = "pop_rsa_key.cache";

/** Upstream's parsePoPClaims, with its texts; wrapped as "unable to parse PoP claims: …". */
export function parsePopClaims(claims: string): Map<string, string> {
  const fail = (message: string): ValidationError => new ValidationError(message, { hint: messages.claimsHint }).wrap("unable to parse PoP claims");
  if (claims.trim() === "") throw fail(messages.noClaims);
  const parsed = new Map<string, string>();
  for (const item of claims.split(",")) {
    // Extra "=" parts are dropped, as upstream: u=a=b means u → a. split gives at least one part.
    const [rawKey, rawValue] = item.split("=") as [string, string?];
    const key = rawKey.trim();
    // No "=" at all leaves the value empty, which is refused as one that is blank.
    const value = rawValue?.trim() ?? "";
    if (key === "" || value === "") throw fail(messages.badClaim);
    // What a JSON string cannot hold unescaped.
    if (/["\\\x00-\x1f]/.test(value)) {
      throw new ValidationError(messages.unquotable(key), { hint: messages.unquotableHint }).wrap("unable to parse PoP claims");
    }
    parsed.set(key, value);
  }
  if (!parsed.get("u")) throw fail(messages.noU);
  return parsed;
}

export interface PopKey {
  readonly privateKey: KeyObject;
  /** base64url modulus and exponent, big-endian, no padding. */
  readonly n: string;
  readonly e: string;
  /** RFC 7638: base64url(SHA-256 of {"e":…,"kty":"RSA","n":…}); the key id everywhere. */
  readonly thumbprint: string;
}

export function popKeyFrom(privateKey: KeyObject): PopKey {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  if (jwk.kty !== "RSA") throw new ValidationError("the PoP key is not an RSA key");
  // An RSA key's JWK always has its modulus and exponent.
  const { n, e } = jwk as { n: string; e: string };
  return { privateKey, n, e, thumbprint: jwkThumbprint(e, n) };
}

/** RFC 7638 for an RSA key: the required members in lexicographic order, no whitespace. */
export function jwkThumbprint(e: string, n: string): string {
  return createHash("sha256").update(`{"e":"${e}","kty":"RSA","n":"${n}"}`).digest("base64url");
}

/** PEM `RSA PRIVATE KEY` (PKCS#1), as upstream stores it. */
export function encodePopKey(key: PopKey): string {
  return key.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
}

export function decodePopKey(pem: string): PopKey {
  if (!/^-----BEGIN RSA PRIVATE KEY-----\r?\n/.test(pem.trimStart())) throw new ValidationError(messages.invalidPemBlock);
  return popKeyFrom(createPrivateKey({ key: pem, format: "pem" }));
}

const generateRsaKeyPair = promisify(generateKeyPair);

export async function generatePopKey(): Promise<PopKey> {
  const { privateKey } = await generateRsaKeyPair("rsa", { modulusLength: 2048, publicExponent: 0x10001 });
  return popKeyFrom(privateKey);
}

export interface LoadedPopKey {
  readonly key: PopKey;
  /** Upstream's stderr warning when a new key could not be saved (it is then used for this run only). */
  readonly warning?: string;
}

/**
 * The persisted key, so cached PoP tokens stay bound to it across runs; a missing or unreadable
 * one is replaced by a new key. A store that cannot be read or written gives an ephemeral key.
 */
export async function loadOrCreatePopKey(store: TokenStore): Promise<LoadedPopKey> {
  const stored = await store.read(POP_KEY_ENTRY).catch((err: unknown) => {
    if (err instanceof CacheError) return null;
    throw err;
  });
  // Stryker disable next-line ConditionalExpression: decoding null throws, which is caught as an unreadable key
  if (stored !== null) {
    try {
      return { key: decodePopKey(stored) };
    } catch {
      // Unreadable: replaced below, as upstream does.
    }
  }
  const key = await generatePopKey();
  try {
    await store.write(POP_KEY_ENTRY, encodePopKey(key));
    return { key };
  } catch (err) {
    if (!(err instanceof CacheError)) throw err;
    return { key, warning: messages.persistFailed(err.message) };
  }
}

// One key per store per process: get-token plans again after the login and saves the token under
// that plan's key; another process replacing the file meanwhile must not change which thumbprint
// the token is filed under (the token is bound to the key that requested it).
const keysByStore = new Map<string, Promise<LoadedPopKey>>();

export function popKeyFor(store: TokenStore): Promise<LoadedPopKey> {
  let loaded = keysByStore.get(store.location);
  if (loaded === undefined) {
    loaded = loadOrCreatePopKey(store);
    keysByStore.set(store.location, loaded);
    loaded.catch(() => keysByStore.delete(store.location));
  }
  return loaded;
}

/** The extra token-request body parameters (compat spec §3.13): exact JSON text, no spaces. */
export function popTokenRequestParams(key: PopKey): Record<string, string> {
  const reqCnf = Buffer.from(`{"kid":"${key.thumbprint}","xms_ksl":"sw"}`).toString("base64url");
  return { token_type: "pop", req_cnf: reqCnf };
}

export interface PopEnvelopeInputs {
  readonly accessToken: string;
  readonly u: string;
  /** Unix seconds. */
  readonly ts: number;
  /** 32 hex digits (a v4 UUID without dashes). */
  readonly nonce: string;
}

/** The signed envelope kubectl presents; header and payload are formatted exactly as upstream's (no JSON escaping). */
export function formatPopToken(key: PopKey, inputs: PopEnvelopeInputs): string {
  const header = `{"typ":"pop","alg":"RS256","kid":"${key.thumbprint}"}`;
  const jwk = `{"e":"${key.e}","kty":"RSA","n":"${key.n}","alg":"RS256","kid":"${key.thumbprint}"}`;
  const payload = `{"at":"${inputs.accessToken}","ts":${inputs.ts},"u":"${inputs.u}","cnf":{"jwk":${jwk}},"nonce":"${inputs.nonce}"}`;
  const signingInput = `${Buffer.from(header).toString("base64url")}.${Buffer.from(payload).toString("base64url")}`;
  const signature = sign("sha256", Buffer.from(signingInput), key.privateKey).toString("base64url");
  return `${signingInput}.${signature}`;
}

/** A fresh envelope: the time of this call and a new nonce. */
export function presentPopToken(key: PopKey, u: string, accessToken: string, now: number): string {
  return formatPopToken(key, { accessToken, u, ts: Math.floor(now / 1000), nonce: randomUUID().replaceAll("-", "") });
}

/** What a PoP strategy adds to its plan: the binding in the cache key, and how to present the token. */
export interface PopBinding {
  readonly key: PopKey;
  readonly u: string;
  readonly warnings: readonly string[];
  /** Appended to the cache key: a token is bound to this key and this cluster. */
  readonly cacheKeyPart: readonly string[];
  present(token: string, now: number): string;
}

export async function popBindingFor(claims: string, store: TokenStore): Promise<PopBinding> {
  const u = parsePopClaims(claims).get("u")!;
  const { key, warning } = await popKeyFor(store);
  return {
    key,
    u,
    warnings: warning === undefined ? [] : [warning],
    cacheKeyPart: ["pop", key.thumbprint, u],
    present: (token, now) => presentPopToken(key, u, token, now),
  };
}

/**
 * msal-node sends `token_type`/`req_cnf` only in its authorization-code flows: every token request
 * of a PoP login gets them here instead, on the way out through the run's fetch. The request also
 * names `popKid`, so msal hands back Entra's bound token as it is instead of signing it itself.
 */
export function withPopTokenRequests(deps: LoginDeps, key: PopKey): LoginDeps {
  const extra = new URLSearchParams(popTokenRequestParams(key)).toString();
  const fetch: Runtime["fetch"] = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const isTokenRequest = init?.method === "POST" && new URL(url).pathname.endsWith("/oauth2/v2.0/token") && typeof init.body === "string";
    return deps.rt.fetch(input, isTokenRequest ? { ...init, body: `${String(init.body)}&${extra}` } : init);
  };
  return { ...deps, rt: { ...deps.rt, fetch } };
}
