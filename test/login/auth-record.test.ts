// The authentication record: upstream's auth.json bytes, tolerant reading, and matching to the request.
import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import {
  findRecord,
  parseRecord,
  recordMatches,
  recordStore,
  saveRecord,
  serializeRecord,
  targetRecordName,
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

describe("authentication record", () => {
  test("serializes in azidentity's key order without a trailing newline", () => {
    expect(serializeRecord({ ...RECORD })).toBe(
      '{"authority":"https://login.microsoftonline.com","clientId":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","homeAccountId":"uid.72f988bf-86f1-41af-91ab-2d7cd011db47","tenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47","username":"alice@contoso.example","version":"1.0"}',
    );
  });

  test("reads keys case-insensitively, as Go does", () => {
    expect(parseRecord('{"Authority":"https://login.microsoftonline.com","clientID":"c","HomeAccountID":"h","tenantID":"t","UserName":"u","Version":"1.0"}')).toEqual({
      authority: "https://login.microsoftonline.com", clientId: "c", homeAccountId: "h", tenantId: "t", username: "u", version: "1.0",
    });
  });

  test.each([["not JSON", "{x"], ["an array", "[]"], ["no version", JSON.stringify({ ...RECORD, version: undefined })], ["another version", JSON.stringify({ ...RECORD, version: "2.0" })], ["no account", JSON.stringify({ ...RECORD, homeAccountId: "" })]])(
    "%s is no record",
    (_name, text) => expect(parseRecord(text)).toBeUndefined(),
  );

  test("matches only its own authority, tenant and client (decision 6)", () => {
    expect(recordMatches(RECORD, TARGET)).toBe(true);
    expect(recordMatches(RECORD, { ...TARGET, tenantId: RECORD.tenantId.toUpperCase() })).toBe(true);
    expect(recordMatches(RECORD, { ...TARGET, tenantId: "0d1c5a7e-9f3b-4c2d-8e6f-1a2b3c4d5e6f" })).toBe(false);
    expect(recordMatches(RECORD, { ...TARGET, clientId: "another-client" })).toBe(false);
    expect(recordMatches(RECORD, { ...TARGET, authorityHost: "https://login.microsoftonline.us/" })).toBe(false);
  });

  test("per-target record names differ by tenant and client, and say nothing about either", () => {
    const name = targetRecordName(TARGET);
    expect(name).toMatch(/^auth-[0-9a-f]{40}\.json$/);
    expect(targetRecordName({ ...TARGET, tenantId: "other" })).not.toBe(name);
    expect(targetRecordName({ ...TARGET, clientId: "other" })).not.toBe(name);
  });

  test("the access-token key carries the signed-in account", () => {
    const target = { authorityHost: TARGET.authorityHost, tenantId: TARGET.tenantId, scope: "x/.default" };
    expect(userCacheKey("devicecode", target, RECORD.clientId, RECORD)).not.toEqual(userCacheKey("devicecode", target, RECORD.clientId, { ...RECORD, homeAccountId: "other" }));
  });
});

describe("whose record is used", () => {
  test("not one a group or others may write, nor one in a dir others may write, and each is reported; a FIFO is none, at once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kubelogin-auth-record-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const refusals: string[] = [];
    const files = { cacheDir: dir, refused: (path: string) => refusals.push(path) };
    await writeFile(join(dir, "auth.json"), serializeRecord(RECORD), { mode: 0o600 });
    expect(await findRecord(files, TARGET)).toEqual(RECORD);
    await chmod(join(dir, "auth.json"), 0o664);
    expect(await findRecord(files, TARGET)).toBeUndefined();
    expect(refusals).toEqual([join(dir, "auth.json")]);
    await chmod(join(dir, "auth.json"), 0o600);
    await chmod(dir, 0o1777);
    // Saved nowhere: the dir is not the user's alone.
    await saveRecord(recordStore(files, Date.now), TARGET, { ...RECORD, username: "mallory" });
    expect(await readFile(join(dir, "auth.json"), "utf8")).toBe(serializeRecord(RECORD));
    expect(refusals).toContain(dir);
    await chmod(dir, 0o700);
    await unlink(join(dir, "auth.json"));
    execFileSync("mkfifo", [join(dir, "auth.json")]);
    expect(await findRecord(files, TARGET)).toBeUndefined();
  });
});
