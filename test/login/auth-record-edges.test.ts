// The authentication record at its edges (src/login/auth-record.ts): which fields make a record,
// how a record is matched and found among ours and upstream's auth.json in a real cache dir, what
// the record store owns and writes, and the exact key of a user sign-in.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  AUTH_JSON,
  findRecord,
  parseRecord,
  recordFor,
  recordMatches,
  recordPaths,
  recordStore,
  saveRecord,
  serializeRecord,
  targetRecordName,
  TARGET_RECORD_PATTERN,
  userCacheKey,
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

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-auth-record-"));
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe("parsing", () => {
  test.each([
    ["null", "null"],
    ["a string", '"x"'],
    ["a number", "5"],
    ["no authority", JSON.stringify({ ...RECORD, authority: "" })],
    ["no client", JSON.stringify({ ...RECORD, clientId: undefined })],
    ["no tenant", JSON.stringify({ ...RECORD, tenantId: "" })],
    ["a numeric account", JSON.stringify({ ...RECORD, homeAccountId: 5 })],
    ["a numeric version", JSON.stringify({ ...RECORD, version: 1.0 })],
  ])("%s is no record", (_, text) => {
    expect(parseRecord(text)).toBeUndefined();
  });

  test("a record without a user name is one, with an empty name; other keys are ignored", () => {
    expect(parseRecord(JSON.stringify({ ...RECORD, username: undefined, extra: "x" }))).toEqual({ ...RECORD, username: "" });
  });
});

describe("matching", () => {
  test("the authority's case and trailing slashes, the host's path, and the client's case do not matter", () => {
    expect(recordMatches({ ...RECORD, authority: "HTTPS://Login.MicrosoftOnline.com//" }, TARGET)).toBe(true);
    expect(recordMatches(RECORD, { ...TARGET, authorityHost: "https://login.microsoftonline.com/some/path" })).toBe(true);
    expect(recordMatches(RECORD, { ...TARGET, clientId: RECORD.clientId.toUpperCase() })).toBe(true);
  });

  test("an authority host that is not a URL is compared as text, without trailing slashes and case", () => {
    const target = { ...TARGET, authorityHost: "Not A URL//" };
    expect(recordMatches({ ...RECORD, authority: "not a url" }, target)).toBe(true);
    expect(targetRecordName(target)).toBe(targetRecordName({ ...target, authorityHost: "not a url" }));
  });

  test("record names ignore the case of tenant and client and the host's path; they differ by host", () => {
    const name = targetRecordName(TARGET);
    expect(targetRecordName({ ...TARGET, tenantId: TARGET.tenantId.toUpperCase(), clientId: TARGET.clientId.toUpperCase() })).toBe(name);
    expect(targetRecordName({ ...TARGET, authorityHost: "https://LOGIN.microsoftonline.com/x" })).toBe(name);
    expect(targetRecordName({ ...TARGET, authorityHost: "https://login.microsoftonline.us/" })).not.toBe(name);
    // With or without the trailing slash entraTarget() gives.
    expect(name).toBe(targetRecordName({ authorityHost: "https://login.microsoftonline.com", tenantId: TARGET.tenantId, clientId: TARGET.clientId }));
    expect(TARGET_RECORD_PATTERN.test(name)).toBe(true);
    expect(TARGET_RECORD_PATTERN.test(`x${name}`)).toBe(false);
    expect(TARGET_RECORD_PATTERN.test(`${name}.bak`)).toBe(false);
  });
});

describe("finding a record in the cache dir", () => {
  test("ours first, then upstream's auth.json when it matches; neither when absent or for another target", async () => {
    expect(recordPaths({ cacheDir }, TARGET)).toEqual([join(cacheDir, targetRecordName(TARGET)), join(cacheDir, AUTH_JSON)]);
    expect(await findRecord({ cacheDir }, TARGET)).toBeUndefined();
    await writeFile(join(cacheDir, AUTH_JSON), serializeRecord({ ...RECORD, username: "shared" }));
    expect((await findRecord({ cacheDir }, TARGET))?.username).toBe("shared");
    expect(await findRecord({ cacheDir }, { ...TARGET, tenantId: "contoso.onmicrosoft.com" })).toBeUndefined();
    await writeFile(join(cacheDir, targetRecordName(TARGET)), serializeRecord({ ...RECORD, username: "ours" }));
    expect((await findRecord({ cacheDir }, TARGET))?.username).toBe("ours");
  });

  test("ours is used for a domain tenant (the record holds the home tenant's GUID); a client that differs is not", async () => {
    const domain = { ...TARGET, tenantId: "contoso.onmicrosoft.com" };
    await writeFile(join(cacheDir, targetRecordName(domain)), serializeRecord({ ...RECORD, username: "ours" }));
    expect((await findRecord({ cacheDir }, domain))?.username).toBe("ours");
    const otherClient = { ...TARGET, clientId: "another-client" };
    await writeFile(join(cacheDir, targetRecordName(otherClient)), serializeRecord(RECORD));
    expect(await findRecord({ cacheDir }, otherClient)).toBeUndefined();
  });

  test("accept narrows both: ours refused falls back to auth.json, which is refused too", async () => {
    await writeFile(join(cacheDir, targetRecordName(TARGET)), serializeRecord({ ...RECORD, username: "ours" }));
    await writeFile(join(cacheDir, AUTH_JSON), serializeRecord({ ...RECORD, username: "shared" }));
    expect((await findRecord({ cacheDir }, TARGET, (r) => r.username === "shared"))?.username).toBe("shared");
    expect(await findRecord({ cacheDir }, TARGET, (r) => r.username === "nobody")).toBeUndefined();
  });

  test("an unreadable record (a directory) is no record", async () => {
    await mkdir(join(cacheDir, AUTH_JSON));
    expect(await findRecord({ cacheDir }, TARGET)).toBeUndefined();
  });
});

describe("saving", () => {
  test("ours and upstream's, with the same bytes; the store owns only record names", async () => {
    const store = recordStore({ cacheDir }, Date.now);
    await saveRecord(store, TARGET, RECORD);
    expect(await readFile(join(cacheDir, targetRecordName(TARGET)), "utf8")).toBe(serializeRecord(RECORD));
    expect(await readFile(join(cacheDir, AUTH_JSON), "utf8")).toBe(serializeRecord(RECORD));
    await expect(store.write("token-x.json", "{}")).rejects.toThrow(/does not own/);
  });

  test("the record for MSAL's account: the authority is https:// and its environment", () => {
    expect(recordFor({ environment: "login.microsoftonline.com", homeAccountId: "h", tenantId: "t", username: "u" }, "c")).toEqual({
      authority: "https://login.microsoftonline.com", clientId: "c", homeAccountId: "h", tenantId: "t", username: "u", version: "1.0",
    });
  });
});

test("a user sign-in's key: mode, bearer, target, client, extra parts, then the account (empty before the first sign-in)", () => {
  const target = { authorityHost: TARGET.authorityHost, tenantId: TARGET.tenantId, scope: "x/.default" };
  expect(userCacheKey("ropc", target, "c", RECORD, ["user", "u"])).toEqual(["ropc", "bearer", TARGET.authorityHost, TARGET.tenantId, "c", "x/.default", "user", "u", "account", RECORD.homeAccountId]);
  expect(userCacheKey("devicecode", target, "c", undefined)).toEqual(["devicecode", "bearer", TARGET.authorityHost, TARGET.tenantId, "c", "x/.default", "account", ""]);
});
