// `kubelogin doctor` in-process: real kubeconfig files, a `kubelogin` on PATH, the real get-token
// use case against fake Entra for --get-token. The report never contains a token or a secret.
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { maskArgs } from "../../src/cli/doctor.js";
import { run } from "../../src/cli/run.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = { clientId: "11111111-1111-1111-1111-111111111111", secret: "s3cret-Value~doctor" };
const BUILT = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

let entra: FakeEntra;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [{ clientId: APP.clientId, secret: APP.secret }] });
});
afterAll(async () => {
  await entra.close();
});

interface Setup {
  kubeconfig: string;
  cacheDir: string;
  bin: string;
  root: string;
}

async function setup(
  extraArgs: string[] = [],
  cacheDirOverride?: string,
  authority: string[] = ["--authority-host", entra.url],
  extraEnv: Array<{ name: string; value: string }> = [],
): Promise<Setup> {
  const root = await mkdtemp(join(tmpdir(), "kubelogin-doctor-"));
  const bin = join(root, "bin");
  await mkdir(bin);
  await symlink(BUILT, join(bin, "kubelogin"));
  const cacheDir = cacheDirOverride ?? join(root, "cache");
  const args = [
    "get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", APP.clientId, "--tenant-id", TENANT,
    ...authority, "--cache-dir", cacheDir, ...extraArgs,
  ];
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "aks", cluster: { server: "https://aks.example:443" } }],
    contexts: [{ name: "aks", context: { cluster: "aks", user: "ci" } }, { name: "other", context: { cluster: "aks", user: "plain" } }],
    "current-context": "aks",
    users: [
      { name: "ci", user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "kubelogin", args, env: [{ name: "AZURE_CLIENT_SECRET", value: APP.secret }, ...extraEnv] } } },
      { name: "plain", user: { token: "static" } },
    ],
  };
  const kubeconfig = join(root, "config");
  await writeFile(kubeconfig, JSON.stringify(config));
  return { kubeconfig, cacheDir, bin, root };
}

const runtimeFor = (s: Setup, env: Record<string, string> = {}) => testRuntime({ env: { PATH: `${s.bin}:/usr/bin:/bin`, KUBECONFIG: s.kubeconfig, ...env } });

test("a healthy context: exit 0, the plugin on PATH, options with provenance, the token's claims, and no token or secret in the output", async () => {
  const s = await setup();
  const rt = runtimeFor(s);
  expect(await run(["doctor", "--get-token"], rt)).toBe(0);
  const out = rt.stdout.text();
  expect(out).toContain("context: aks (cluster aks, user ci)");
  expect(out).toContain(`resolves to: ${join(s.bin, "kubelogin")}`);
  expect(out).toContain(`client-id=${APP.clientId}  [flag --client-id]`);
  expect(out).toContain("client-secret=***  [env AZURE_CLIENT_SECRET]");
  expect(out).toContain(`aud: ${SERVER_ID}`);
  expect(out).toContain(`iss: https://sts.windows.net/${TENANT}/`);
  expect(out).toMatch(/appid: 11111111-1111-1111-1111-111111111111/);
  expect(out).toMatch(/\nno problems found/);
  expect(out).not.toContain(APP.secret);
  expect(out).not.toContain(entra.issuedTokens.at(-1)!);
  expect(out).not.toContain(entra.issuedTokens.at(-1)!.split(".")[2]!);
  expect(rt.stderr.text()).toBe("");

  // The token fetched is now cached, and doctor says until when.
  const again = runtimeFor(s);
  expect(await run(["doctor"], again)).toBe(0);
  expect(again.stdout.text()).toMatch(/token for this context: cached until \d{4}-\d\d-\d\dT/);
});

test("AZURE_CLIENT_ID overriding --client-id is a problem: exit 1 and one error line", async () => {
  const s = await setup();
  const rt = runtimeFor(s, { AZURE_CLIENT_ID: "99999999-9999-9999-9999-999999999999" });
  expect(await run(["doctor"], rt)).toBe(1);
  expect(rt.stdout.text()).toContain("client-id=99999999-9999-9999-9999-999999999999  [env AZURE_CLIENT_ID (overrode --client-id)]");
  expect(rt.stdout.text()).toContain("problem: AZURE_CLIENT_ID in the environment overrides --client-id from the kubeconfig");
  expect(rt.stderr.text()).toBe("Error: doctor found 1 problem\n");
});

test("a token whose audience is not the server id is explained", async () => {
  const s = await setup();
  expect(await run(["get-token", ...(await execArgs(s))], runtimeFor(s, { AZURE_CLIENT_SECRET: APP.secret }))).toBe(0);
  // The cached token is now one for another resource (as when --server-id names the wrong app).
  const [entry] = (await readdir(s.cacheDir)).filter((name) => name.startsWith("token-"));
  const path = join(s.cacheDir, entry!);
  const cached = JSON.parse(await readFile(path, "utf8")) as { accessToken: string };
  const [header, payload, signature] = cached.accessToken.split(".") as [string, string, string];
  const claims = { ...(JSON.parse(Buffer.from(payload, "base64url").toString()) as object), aud: "api://some-other-app" };
  await writeFile(path, JSON.stringify({ ...cached, accessToken: `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}` }));

  const rt = runtimeFor(s);
  expect(await run(["doctor", "--get-token"], rt)).toBe(1);
  expect(rt.stdout.text()).toContain(`problem: the token's audience api://some-other-app is not the server id ${SERVER_ID}`);
});

test("an unwritable cache dir is a problem (a path under a regular file, so it holds for root too)", async () => {
  const root = await mkdtemp(join(tmpdir(), "kubelogin-doctor-file-"));
  await writeFile(join(root, "file"), "");
  const s = await setup([], join(root, "file", "cache"));
  const rt = runtimeFor(s);
  expect(await run(["doctor"], rt)).toBe(1);
  expect(rt.stdout.text()).toContain(`problem: the cache dir ${join(root, "file", "cache")} is not writable (${join(root, "file")} is not a directory)`);
});

test("a cache dir others may write, and cache files a group or others may write or that are no regular file, are problems; a FIFO does not hang it", async () => {
  const s = await setup();
  expect(await run(["get-token", ...(await execArgs(s))], runtimeFor(s, { AZURE_CLIENT_SECRET: APP.secret }))).toBe(0);
  const names = await readdir(s.cacheDir);
  const entry = names.find((name) => name.startsWith("token-"))!;
  const index = names.find((name) => name.startsWith("fast-"))!;
  await chmod(join(s.cacheDir, index), 0o666);
  await unlink(join(s.cacheDir, entry));
  execFileSync("mkfifo", [join(s.cacheDir, entry)]);
  const files = runtimeFor(s);
  expect(await run(["doctor"], files)).toBe(1);
  expect(files.stdout.text()).toContain(`problem: kubelogin does not use ${join(s.cacheDir, index)} (it is writable by its group or others (mode 0666)): remove it`);
  expect(files.stdout.text()).toContain(`problem: kubelogin does not use ${join(s.cacheDir, entry)} (it is not a regular file): remove it`);

  await chmod(s.cacheDir, 0o1777);
  const shared = runtimeFor(s);
  expect(await run(["doctor"], shared)).toBe(1);
  expect(shared.stdout.text()).toContain(`problem: the cache dir ${s.cacheDir} is not this user's alone (it is writable by its group or others (mode 01777)): kubelogin neither reads nor writes its cache there`);
  expect(shared.stdout.text()).not.toContain("kubelogin does not use");
});

test("a context whose user has no exec stanza, a missing kubelogin on PATH, and --context", async () => {
  const s = await setup();
  const plain = runtimeFor(s);
  expect(await run(["doctor", "--context", "other"], plain)).toBe(1);
  expect(plain.stdout.text()).toContain('problem: user "plain" has no exec stanza');
  const noPath = runtimeFor(s, { PATH: "/nonexistent" });
  expect(await run(["doctor"], noPath)).toBe(1);
  expect(noPath.stdout.text()).toContain('problem: kubectl would not find "kubelogin": it is not on PATH');
});

test("an unknown --environment is a problem", async () => {
  const s = await setup(["--environment", "AzureMoonCloud"], undefined, []);
  const rt = runtimeFor(s);
  expect(await run(["doctor"], rt)).toBe(1);
  expect(rt.stdout.text()).toMatch(/problem: .*AzureMoonCloud/);
});

test("-o json has a stable shape, documented in the README", async () => {
  const s = await setup();
  const rt = runtimeFor(s, { HTTPS_PROXY: "http://user:pw@proxy.example:3128" });
  expect(await run(["doctor", "-o", "json"], rt)).toBe(0);
  const report = JSON.parse(rt.stdout.text()) as Record<string, unknown>;
  expect(Object.keys(report)).toEqual(["version", "exec", "plugin", "options", "cache", "network", "token", "kubeconfig", "context", "problems", "warnings"]);
  expect(report.version).toBe(1);
  expect(report.network).toEqual({ HTTPS_PROXY: "http://***@proxy.example:3128" });
  expect(Object.keys(report.cache as object)).toEqual(["backend", "longLived", "dir", "writable", "staleLocks", "corruptEntries", "token"]);
  expect(report.token).toBeNull();
  expect(report.problems).toEqual([]);
  expect(rt.stdout.text()).not.toContain(APP.secret);
});

test("the exec stanza's env: values the logins treat as secret, token-shaped values and URL credentials are masked, in text and in json", async () => {
  const identityHeader = "f3b1c9d2-identity-header-value";
  const proxyPassword = "hunter2-proxy-pw";
  const jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
  const s = await setup([], undefined, undefined, [
    { name: "IDENTITY_HEADER", value: identityHeader },
    { name: "HTTPS_PROXY", value: `http://bob:${proxyPassword}@proxy.example:3128` },
    { name: "SOME_ASSERTION", value: jwt },
    { name: "NO_PROXY", value: "localhost,.internal" },
  ]);
  const text = runtimeFor(s);
  await run(["doctor"], text);
  const json = runtimeFor(s);
  await run(["doctor", "-o", "json"], json);
  expect(text.stdout.text()).toContain("env: AZURE_CLIENT_SECRET=*** IDENTITY_HEADER=*** HTTPS_PROXY=http://***@proxy.example:3128 SOME_ASSERTION=*** NO_PROXY=localhost,.internal\n");
  expect((JSON.parse(json.stdout.text()) as { exec: { env: unknown } }).exec.env).toEqual([
    { name: "AZURE_CLIENT_SECRET", value: "***" },
    { name: "IDENTITY_HEADER", value: "***" },
    { name: "HTTPS_PROXY", value: "http://***@proxy.example:3128" },
    { name: "SOME_ASSERTION", value: "***" },
    { name: "NO_PROXY", value: "localhost,.internal" },
  ]);
  for (const out of [text.stdout.text(), json.stdout.text(), text.stderr.text(), json.stderr.text()]) {
    for (const secret of [identityHeader, proxyPassword, jwt, "bob:"]) expect(out).not.toContain(secret);
  }
});

test("URL credentials in the args and in the options resolved from them are masked", async () => {
  const s = await setup([], undefined, ["--authority-host", "https://carol:pa55word-in-url@login.example/"]);
  for (const output of ["text", "json"]) {
    const rt = runtimeFor(s);
    await run(["doctor", "-o", output], rt);
    expect(rt.stdout.text()).toContain("https://***@login.example/");
    expect(rt.stdout.text()).not.toContain("pa55word-in-url");
    expect(rt.stdout.text()).not.toContain("carol");
  }
});

test("secret flag values are masked in the shown args", () => {
  expect(maskArgs(["get-token", "--client-secret", "x", "--password=y", "--username", "u"])).toEqual(["get-token", "--client-secret", "***", "--password=***", "--username", "u"]);
});

async function execArgs(s: Setup): Promise<string[]> {
  const config = JSON.parse(await readFile(s.kubeconfig, "utf8")) as { users: { user: { exec?: { args: string[] } } }[] };
  return config.users[0]!.user.exec!.args.slice(1);
}
