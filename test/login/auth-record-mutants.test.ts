// The authentication record where auth-record-edges leaves off: the exact file name of a target's
// record, text that is no JSON, an authority host that is not a URL keeping its inner slashes, a
// cache dir that cannot hold files, and the name of the user sign-ins' MSAL cache entry.
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import {
  findRecord,
  parseRecord,
  recordMatches,
  serializeRecord,
  targetRecordName,
  USER_SIGN_IN_CACHE_ENTRY,
  type AuthenticationRecord,
} from "../../src/login/auth-record.js";

const RECORD: AuthenticationRecord = {
  authority: "https://login.microsoftonline.com",
  clientId: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
  homeAccountId: "uid.72f988bf-86f1-41af-91ab-2d7cd011db47",
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  username: "alice@contoso.example",
  version: "1.0",
};
const TARGET = { authorityHost: "https://login.microsoftonline.com/", tenantId: RECORD.tenantId, clientId: RECORD.clientId };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-auth-record-mutants-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("a target's record name: the first 40 hex of the sha256 of its versioned, lower-cased parts", () => {
  const upper = { authorityHost: "https://LOGIN.microsoftonline.com/", tenantId: "Contoso.OnMicrosoft.com", clientId: "ABC-Client" };
  const digest = createHash("sha256").update(JSON.stringify(["kubelogin-auth-record-v1", "https://login.microsoftonline.com", "contoso.onmicrosoft.com", "abc-client"])).digest("hex");
  expect(targetRecordName(upper)).toBe(`auth-${digest.slice(0, 40)}.json`);
});

test("text that is not JSON is no record", () => {
  expect(parseRecord("{")).toBeUndefined();
  expect(parseRecord(serializeRecord(RECORD).slice(0, -1))).toBeUndefined();
});

test("an authority host that is not a URL loses only its trailing slashes", () => {
  const target = { ...TARGET, authorityHost: "Some/Host//" };
  expect(recordMatches({ ...RECORD, authority: "some/host" }, target)).toBe(true);
  expect(recordMatches({ ...RECORD, authority: "somehost" }, target)).toBe(false);
  expect(targetRecordName(target)).not.toBe(targetRecordName({ ...target, authorityHost: "somehost" }));
});

test("a cache dir that is a file holds no record", async () => {
  const file = join(dir, "not-a-dir");
  await writeFile(file, serializeRecord(RECORD));
  expect(await findRecord({ cacheDir: file }, TARGET)).toBeUndefined();
});

test("user sign-ins share the MSAL cache entry msal-user-cache.json, the name existing cache dirs hold it under", () => {
  expect(USER_SIGN_IN_CACHE_ENTRY).toBe("msal-user-cache.json");
});
