// The authentication record (compat spec §4.1, decision 6): which account signed in, so the next
// run signs in silently as that account and keys its access token by it. Upstream keeps one
// `auth.json` per cache dir; we keep writing it in upstream's shape, and also one record per
// (authority, tenant, client) beside it, so two tenants or apps signed in through one cache dir
// both stay signed in. A record is only used for the authority, tenant and client it was written
// for. Light on purpose: plan() reads it on the cached path.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { createFileStore } from "../cache/file-store.js";
import type { TokenStore } from "../cache/store.js";
import { currentUid, MAX_ENTRY_BYTES, readCacheFile } from "../cache/trust.js";

/** azidentity's AuthenticationRecord, keys in its order (upstream's auth.json). */
export interface AuthenticationRecord {
  /** Scheme and host of the authority, no trailing slash: https://login.microsoftonline.com */
  readonly authority: string;
  readonly clientId: string;
  /** `<uid>.<utid>` */
  readonly homeAccountId: string;
  readonly tenantId: string;
  readonly username: string;
  readonly version: "1.0";
}

/** What a sign-in was for: a record for anything else is not used. */
export interface RecordTarget {
  /** With trailing slash, as entraTarget() gives it. */
  readonly authorityHost: string;
  /** As requested: a GUID, a domain name, "organizations"... */
  readonly tenantId: string;
  readonly clientId: string;
}

/** Where the records live: upstream's `auth.json` and ours, side by side. */
export interface RecordFiles {
  /** The cache dir; `<cache-dir>/auth.json` is GetTokenOptions.authRecordCacheFile. */
  readonly cacheDir: string;
  /** Told of a record another user could have written (cache/trust.ts), which is not used. */
  readonly refused?: (path: string, reason: string) => void;
}

/** Upstream's record file name (compat spec §4.1). */
export const AUTH_JSON = "auth.json";

/**
 * The MSAL cache entry (in the long-lived store) that user sign-ins share: devicecode, interactive
 * and ropc of one app may use each other's refresh tokens, as upstream's single msal.cache allows.
 */
export const USER_SIGN_IN_CACHE_ENTRY = "msal-user-cache.json";

/** Our per-target records: `auth-<40 hex>.json` in the cache dir (remove-cache-dir removes them). */
export const TARGET_RECORD_PATTERN = /^auth-[0-9a-f]{40}\.json$/;

export function targetRecordName(target: RecordTarget): string {
  const digest = createHash("sha256")
    .update(JSON.stringify(["kubelogin-auth-record-v1", originOf(target.authorityHost), target.tenantId.toLowerCase(), target.clientId.toLowerCase()]))
    .digest("hex");
  return `auth-${digest.slice(0, 40)}.json`;
}

/** Upstream's bytes: keys in azidentity's order, no trailing newline. */
export function serializeRecord(record: AuthenticationRecord): string {
  const { authority, clientId, homeAccountId, tenantId, username, version } = record;
  return JSON.stringify({ authority, clientId, homeAccountId, tenantId, username, version });
}

/** A record, or undefined for anything else (corrupt, another version, missing fields). Keys match case-insensitively, as Go's decoder. */
export function parseRecord(text: string): AuthenticationRecord | undefined {
  let parsed: unknown;
  // Stryker disable BlockStatement: an empty catch leaves parsed undefined, which the check below refuses
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Stryker restore BlockStatement
  // Stryker disable next-line ConditionalExpression: a string, number or boolean has no named keys, so no fields either
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const fields = new Map(Object.entries(parsed).map(([key, value]) => [key.toLowerCase(), value]));
  const field = (name: string): string | undefined => {
    const value = fields.get(name.toLowerCase());
    return typeof value === "string" ? value : undefined;
  };
  const authority = field("authority");
  const clientId = field("clientId");
  const homeAccountId = field("homeAccountId");
  const tenantId = field("tenantId");
  const username = field("username") ?? "";
  if (!authority || !clientId || !homeAccountId || !tenantId || field("version") !== "1.0") return undefined;
  return { authority, clientId, homeAccountId, tenantId, username, version: "1.0" };
}

/**
 * Decision 6: the record's authority and client must be the request's, and so must its tenant
 * (the account's home tenant for a GUID, so a domain-name tenant only matches our per-target file).
 */
export function recordMatches(record: AuthenticationRecord, target: RecordTarget): boolean {
  return (
    record.authority.replace(/\/+$/, "").toLowerCase() === originOf(target.authorityHost) &&
    record.clientId.toLowerCase() === target.clientId.toLowerCase() &&
    record.tenantId.toLowerCase() === target.tenantId.toLowerCase()
  );
}

async function readRecordFile(path: string, files: RecordFiles): Promise<AuthenticationRecord | undefined> {
  // Stryker disable BlockStatement: an empty catch returns undefined just the same
  try {
    const read = await readCacheFile(path, currentUid(), MAX_ENTRY_BYTES);
    // Stryker disable next-line OptionalChaining: without a listener the TypeError is caught below, and it is no record all the same
    if (read.kind === "refused") files.refused?.(path, read.reason);
    // A FIFO or a device is no record either, and the next sign-in's write replaces it.
    // Stryker disable next-line ConditionalExpression: another kind has no text, and parseRecord(undefined) is no record
    return read.kind === "text" ? parseRecord(read.text) : undefined;
  } catch {
    // Missing or unreadable: no record, as upstream (which logs it at -v 5).
    return undefined;
  }
  // Stryker restore BlockStatement
}

/** The files findRecord reads for a target, in its order. */
export function recordPaths(files: RecordFiles, target: RecordTarget): string[] {
  return [join(files.cacheDir, targetRecordName(target)), join(files.cacheDir, AUTH_JSON)];
}

/**
 * The record for this target: ours (written for exactly this authority, tenant and client) first,
 * then upstream's auth.json when it matches. `accept` narrows further (ropc: the same user name).
 */
export async function findRecord(
  files: RecordFiles,
  target: RecordTarget,
  accept: (record: AuthenticationRecord) => boolean = () => true,
): Promise<AuthenticationRecord | undefined> {
  const [oursPath, sharedPath] = recordPaths(files, target) as [string, string];
  const ours = await readRecordFile(oursPath, files);
  if (ours && ours.clientId.toLowerCase() === target.clientId.toLowerCase() && accept(ours)) return ours;
  const shared = await readRecordFile(sharedPath, files);
  if (shared && recordMatches(shared, target) && accept(shared)) return shared;
  return undefined;
}

/**
 * The records' writer: the cache's file store (0600 in a 0700 dir, each file replaced atomically,
 * so a corrupt one is simply overwritten). Always files, whatever backend keeps the rest of the
 * long-lived state: plan() reads them on the cached path with a plain file read, and auth.json is
 * upstream's file.
 */
export function recordStore(files: RecordFiles, now: () => number): TokenStore {
  return createFileStore({ dir: files.cacheDir, now, owns: (name) => name === AUTH_JSON || TARGET_RECORD_PATTERN.test(name), refused: files.refused });
}

/** Writes ours, then upstream's. */
export async function saveRecord(store: TokenStore, target: RecordTarget, record: AuthenticationRecord): Promise<void> {
  const content = serializeRecord(record);
  await store.write(targetRecordName(target), content);
  await store.write(AUTH_JSON, content);
}

/** The record for what MSAL returned after a sign-in. */
export function recordFor(account: { environment: string; homeAccountId: string; tenantId: string; username: string }, clientId: string): AuthenticationRecord {
  return {
    authority: `https://${account.environment}`,
    clientId,
    homeAccountId: account.homeAccountId,
    tenantId: account.tenantId,
    username: account.username,
    version: "1.0",
  };
}

function originOf(authorityHost: string): string {
  try {
    return new URL(authorityHost).origin.toLowerCase();
  } catch {
    return authorityHost.replace(/\/+$/, "").toLowerCase();
  }
}

/**
 * The access-token key of a user sign-in: the account is part of it, so two people (or two
 * tenants) signed in through one cache dir never get each other's token. Before the first sign-in
 * there is no account yet; the use case plans again afterwards and saves under the account's key.
 */
export function userCacheKey(
  mode: string,
  target: { authorityHost: string; tenantId: string; scope: string },
  clientId: string,
  record: AuthenticationRecord | undefined,
  extra: readonly string[] = [],
): string[] {
  return [mode, "bearer", target.authorityHost, target.tenantId, clientId, target.scope, ...extra, "account", record?.homeAccountId ?? ""];
}
