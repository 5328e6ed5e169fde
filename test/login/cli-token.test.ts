// What azurecli and azd share (src/login/cli-token.ts): the scope check, how the CLI is started
// (argument array, /bin, cmd.exe on Windows), what counts as "not found", the failure and JSON
// texts, where the CLI's config dir is, the identity fingerprint of its files, and local/UTC times.
// runCli gets its LoginDeps from the real get-token use case (a strategy whose login runs it); the
// spawn it is handed is the runtime's, real or recording.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { getToken } from "../../src/exec/get-token.js";
import {
  configDirFrom,
  failureText,
  isValidCliScope,
  NOT_FOUND,
  parseCliJson,
  readFingerprinted,
  runCli,
  timeFromParts,
} from "../../src/login/cli-token.js";
import type { LoginDeps, LoginStrategy } from "../../src/login/types.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions } from "../../src/options/resolve.js";
import { GET_TOKEN_OPTIONS } from "../../src/options/table.js";
import { validateOptions } from "../../src/options/validate.js";
import type { Spawn, SpawnResult } from "../../src/runtime.js";
import { testRuntime, type TestRuntimeOptions } from "../support/runtime.js";

const AZ = { command: "az", credential: "AzureCLICredential" };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-cli-token-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `work` as the login of a get-token call, with the deps the use case gives a login; returns what it returned or threw, and stderr. */
async function asLogin<T>(work: (deps: LoginDeps) => Promise<T>, runtime: TestRuntimeOptions = {}, level = 0): Promise<{ value: T | undefined; error: unknown; stderr: string }> {
  const rt = testRuntime(runtime);
  let value: T | undefined;
  let error: unknown;
  let finished: Promise<unknown> = Promise.resolve();
  const strategy: LoginStrategy = {
    mode: "azurecli",
    plan: async () => ({
      cacheKey: ["cli-token-test", String(Math.random())],
      inputs: [],
      warnings: [],
      acquire: async (deps) => {
        finished = work(deps).then(
          (result) => void (value = result),
          (err: unknown) => void (error = err),
        );
        await finished;
        return { token: "unused", expiresOn: Date.now() + 3_600_000 };
      },
    }),
  };
  const { options, provenance } = resolveOptions(parseFlags(["--server-id", "s", "--cache-dir", dir, "--timeout", "1s"], GET_TOKEN_OPTIONS), rt.env, rt.homedir);
  // A login that outlives --timeout leaves get-token failing first; what it did is still collected.
  await getToken({ options: validateOptions(options, provenance), provenance }, { rt, log: rt.logger(level), strategyFor: async () => strategy }).catch(() => undefined);
  await finished;
  return { value, error, stderr: rt.stderr.text() };
}

function recordingSpawn(answer: () => Promise<SpawnResult>): Spawn & { calls: { file: string; args: readonly string[]; cwd: string | undefined }[] } {
  const calls: { file: string; args: readonly string[]; cwd: string | undefined }[] = [];
  const spawn: Spawn = async (file, args, options) => {
    calls.push({ file, args, cwd: options.cwd });
    return answer();
  };
  return Object.assign(spawn, { calls });
}

const ok: SpawnResult = { exitCode: 0, stdout: "{}", stderr: "" };

test.each([
  ["api://a-b_c.d/x:y", true],
  ["", true],
  ["a b", false],
  ["$x", false],
  ["x$", false],
  ["é", false],
])("CLI scope %j valid: %s", (scope, valid) => {
  expect(isValidCliScope(scope)).toBe(valid);
});

describe("starting the CLI", () => {
  test("on Linux: the command itself with the arguments, in /bin; -v 5 says so", async () => {
    const spawn = recordingSpawn(async () => ok);
    const result = await asLogin((deps) => runCli(AZ, ["account", "get-access-token"], deps), { spawn }, 5);
    expect(result.value).toEqual(ok);
    expect(spawn.calls).toEqual([{ file: "az", args: ["account", "get-access-token"], cwd: "/bin" }]);
    expect(result.stderr).toContain("running az account get-access-token in /bin\n");
  });

  test("on Windows: cmd.exe /d /c in %SYSTEMROOT%, which must be set", async () => {
    const build = { runtimeVersion: "node v20.0.0-test", platform: "windows/amd64" };
    const spawn = recordingSpawn(async () => ok);
    await asLogin((deps) => runCli(AZ, ["x"], deps), { spawn, build, env: { SYSTEMROOT: "C:\\Windows" } });
    expect(spawn.calls).toEqual([{ file: "cmd.exe", args: ["/d", "/c", "az", "x"], cwd: "C:\\Windows" }]);
    const unset = await asLogin((deps) => runCli(AZ, ["x"], deps), { spawn, build, env: {} });
    expect((unset.error as Error).message).toBe("AzureCLICredential: environment variable 'SYSTEMROOT' has no value");
    expect(spawn.calls).toHaveLength(1);
  });

  test("not found: ENOENT, exit code 127, or cmd.exe's 'is not recognized'", async () => {
    const enoent = await asLogin((deps) => runCli(AZ, [], deps), { spawn: async () => Promise.reject(Object.assign(new Error("spawn az ENOENT"), { code: "ENOENT" })) });
    expect(enoent.value).toBe(NOT_FOUND);
    const exit127 = await asLogin((deps) => runCli(AZ, [], deps), { spawn: async () => ({ exitCode: 127, stdout: "", stderr: "" }) });
    expect(exit127.value).toBe(NOT_FOUND);
    const cmd = await asLogin((deps) => runCli(AZ, [], deps), { spawn: async () => ({ exitCode: 1, stdout: "", stderr: "'az' is not recognized as an internal or external command" }) });
    expect(cmd.value).toBe(NOT_FOUND);
    const other = await asLogin((deps) => runCli(AZ, [], deps), { spawn: async () => ({ exitCode: 1, stdout: "", stderr: "x 'az' is not recognized" }) });
    expect(other.value).toEqual({ exitCode: 1, stdout: "", stderr: "x 'az' is not recognized" });
  });

  test("another spawn failure names the credential and keeps the cause", async () => {
    const cause = Object.assign(new Error("spawn az EACCES"), { code: "EACCES" });
    const result = await asLogin((deps) => runCli(AZ, [], deps), { spawn: async () => Promise.reject(cause) });
    expect((result.error as Error).message).toBe("AzureCLICredential: spawn az EACCES");
    expect((result.error as Error).cause).toBe(cause);
  });

  test("a spawn that fails because --timeout ran out gives the run's timeout error", async () => {
    const result = await asLogin(
      (deps) => runCli(AZ, [], deps),
      { spawn: (_file, _args, options) => new Promise((_, reject) => options.signal?.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { code: "ENOENT" })))) },
    );
    expect((result.error as Error).message).toBe("failed to get token: context deadline exceeded");
  });
});

test("a failure's text: stderr trimmed, else the exit status, else the signal", () => {
  expect(failureText({ exitCode: 2, stdout: "", stderr: "  ERROR: x\n" })).toBe("ERROR: x");
  expect(failureText({ exitCode: 2, stdout: "", stderr: " \n" })).toBe("exit status 2");
  expect(failureText({ exitCode: null, stdout: "", stderr: "" })).toBe("terminated by a signal");
});

test("the CLI's answer must be a JSON object, and an error never quotes it", () => {
  expect(parseCliJson(AZ, '{"a":1}')).toEqual({ a: 1 });
  expect(() => parseCliJson(AZ, "token-text")).toThrow(/^AzureCLICredential: the output of az is not valid JSON$/);
  for (const text of ["null", "[]", "5", '"s"']) expect(() => parseCliJson(AZ, text)).toThrow(/^AzureCLICredential: the output of az is not a JSON object$/);
});

test.each([
  [undefined, "/home/u/.azure"],
  ["", "/home/u/.azure"],
  ["~", "/home/u"],
  ["~/conf", "/home/u/conf"],
  ["~other", "/bin/~other"],
  ["relative", "/bin/relative"],
  ["/abs/dir", "/abs/dir"],
])("config dir from %j is %j", (value, expected) => {
  expect(configDirFrom(value === undefined ? {} : { AZURE_CONFIG_DIR: value }, "AZURE_CONFIG_DIR", "/home/u", ".azure")).toBe(expected);
});

test("a fingerprinted file: its content's digest, absent, or unreadable with the code", async () => {
  await writeFile(join(dir, "azureProfile.json"), "profile");
  const present = await readFingerprinted(dir, "azureProfile.json");
  expect(present).toEqual({ path: join(dir, "azureProfile.json"), entry: `azureProfile.json=${createHash("sha256").update("profile").digest("hex")}`, content: Buffer.from("profile") });
  expect(await readFingerprinted(dir, "config")).toEqual({ path: join(dir, "config"), entry: "config=absent" });
  expect((await readFingerprinted(join(dir, "azureProfile.json"), "config")).entry).toBe("config=absent");
  await mkdir(join(dir, "config"));
  expect((await readFingerprinted(dir, "config")).entry).toBe("config=unreadable EISDIR");
});

describe("times from parts", () => {
  const parts = (text: string) => text.split(/[- :]/);
  test("UTC and local, with a fraction cut to milliseconds", () => {
    expect(timeFromParts(parts("2031-05-06 23:59:59"), undefined, "utc")).toBe(Date.UTC(2031, 4, 6, 23, 59, 59));
    expect(timeFromParts(parts("2031-05-06 07:08:09"), "5", "utc")).toBe(Date.UTC(2031, 4, 6, 7, 8, 9, 500));
    expect(timeFromParts(parts("2031-05-06 07:08:09"), "9999", "local")).toBe(new Date(2031, 4, 6, 7, 8, 9, 999).getTime());
  });

  test.each(["2031-05-06 24:00:00", "2031-05-06 23:60:00", "2031-05-06 23:59:60", "2031-05-06 07:60:00", "2031-05-06 07:08:60", "2031-02-29 00:00:00", "2031-13-01 00:00:00", "2031-04-31 00:00:00"])("%s does not exist", (text) => {
    expect(timeFromParts(parts(text), undefined, "utc")).toBeUndefined();
    expect(timeFromParts(parts(text), undefined, "local")).toBeUndefined();
  });
});
