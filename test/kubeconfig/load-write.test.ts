// Loading (client-go rules, compat spec §5.1) and writing back (§5.5) against real files in temp
// directories: which file each user goes back to, all-or-nothing, permissions, locks, and that
// everything the converter does not own survives byte for byte.
import { chmod, chown, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { KubeconfigError } from "../../src/errors.js";
import { convertKubeconfig } from "../../src/kubeconfig/convert.js";
import { kubeconfigPaths, loadKubeconfig } from "../../src/kubeconfig/load.js";
import { parseKubeconfig } from "../../src/kubeconfig/model.js";
import { patchKubeconfigText } from "../../src/kubeconfig/patch.js";
import { KubeconfigLockedError, planWrites, writeKubeconfigChanges } from "../../src/kubeconfig/write.js";
import { parseFlags } from "../../src/options/parse-flags.js";
import { resolveOptions, type Env } from "../../src/options/resolve.js";
import { CONVERT_ONLY_OPTIONS, GET_TOKEN_OPTIONS, GLOBAL_OPTIONS } from "../../src/options/table.js";
import { aksClusterYaml } from "../fixtures/kubeconfigs.js";
import { runProcess } from "../support/local-stack.js";
import { kubectlBinary } from "../support/kubectl.js";

const SERVER = "6dae42f8-4368-4678-94ff-3960e28e3630";
const CLIENT = "80faf920-1908-4b52-b5ef-a8e7bedfc67a";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kubelogin-kubeconfig-"));
  dirs.push(dir);
  return dir;
}

/** Writes `files` (name → text) into a fresh temp dir and returns their paths. */
async function fixture(files: Record<string, string>): Promise<{ dir: string; path: (name: string) => string }> {
  const dir = await tempDir();
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o600 });
  return { dir, path: (name) => join(dir, name) };
}

interface Snapshot {
  bytes: string;
  mtimeMs: number;
  ino: number;
  mode: number;
}

async function snapshot(path: string): Promise<Snapshot> {
  const st = await stat(path);
  return { bytes: await readFile(path, "utf8"), mtimeMs: st.mtimeMs, ino: st.ino, mode: st.mode & 0o777 };
}

/** convert-kubeconfig's pipeline minus the CLI: load → convert → write back. */
async function convertFiles(flags: string[], env: Env, homedir = "/nonexistent-home"): Promise<string[]> {
  const parsed = parseFlags(flags, [...GET_TOKEN_OPTIONS, ...CONVERT_ONLY_OPTIONS, ...GLOBAL_OPTIONS]);
  const resolved = resolveOptions(parsed, env, homedir);
  const loadRequest = { explicitPath: String(parsed.values.kubeconfig ?? ""), env, homedir };
  const loaded = await loadKubeconfig(loadRequest);
  const { changedUsers } = convertKubeconfig(loaded.merged, {
    options: resolved.options,
    changed: parsed.changed,
    context: String(parsed.values.context ?? ""),
    origins: loaded.origins,
  });
  return writeKubeconfigChanges(planWrites(changedUsers, loaded.origins, kubeconfigPaths(loadRequest)[0]!));
}

const AKS_PROVIDER_USER = `- name: clusterUser_rg_aks
  user:
    auth-provider:
      config:
        apiserver-id: ${SERVER}
        client-id: ${CLIENT}
        config-mode: '1'
        environment: AzurePublicCloud
        tenant-id: ${TENANT}
      name: azure
`;

const AKS_KUBECONFIG = `${aksClusterYaml({ server: "https://aks-dns-1a2b3c.hcp.eastus.azmk8s.io:443", caData: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUU2RENDQXRDZ0F3SUJBZ0lRT0NmN3RzU3JYRGZuN3hNWlZzOUkzREFOQmdrcWhraUc5dzBCQVFzRkFEQU4K" })}users:
${AKS_PROVIDER_USER}- name: other
  user:
    token: "0123"
x-tooling:
  ratio: 1.0
  big: 12345678901234567890
  when: 2001-12-14
  list: [a, 'b', "c"]
  shared: &shared {k: v}
  again: *shared
`;

const CONVERTED_AKS_USER = `- name: clusterUser_rg_aks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --login
      - azurecli
      - --server-id
      - ${SERVER}
      command: kubelogin
      env: null
      installHint: |

        kubelogin is not installed which is required to connect to AAD enabled cluster.

        To learn more, please go to https://azure.github.io/kubelogin/
      provideClusterInfo: false
`;

describe("loading (client-go rules)", () => {
  test("--kubeconfig that does not exist fails with client-go's stat error", async () => {
    const { path } = await fixture({});
    await expect(loadKubeconfig({ explicitPath: path("missing"), env: {}, homedir: "/h" })).rejects.toThrow(
      `unable to load kubeconfig: stat ${path("missing")}: no such file or directory`,
    );
  });

  test("--kubeconfig that stat cannot judge (a path under a file) fails as the read's error, with a hint for a missing one", async () => {
    const { path } = await fixture({ file: "x" });
    await expect(loadKubeconfig({ explicitPath: join(path("file"), "config"), env: {}, homedir: "/h" })).rejects.toThrow(
      `unable to load kubeconfig: error loading config file "${join(path("file"), "config")}": open ${join(path("file"), "config")}: not a directory`,
    );
    await expect(loadKubeconfig({ explicitPath: path("missing"), env: {}, homedir: "/h" })).rejects.toMatchObject({
      hint: "check the --kubeconfig path",
      cause: expect.objectContaining({ code: "ENOENT" }),
    });
  });

  test("no warning for a missing ~/.kube/config, an empty KUBECONFIG list, or without a warn callback", async () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    const home = await tempDir();
    expect((await loadKubeconfig({ explicitPath: "", env: {}, homedir: home, warn })).files).toEqual([]);
    expect((await loadKubeconfig({ explicitPath: "", env: { KUBECONFIG: ":" }, homedir: home, separator: ":", warn })).files).toEqual([]);
    expect(warnings).toEqual([]);
    const loaded = await loadKubeconfig({ explicitPath: "", env: { KUBECONFIG: join(home, "missing") }, homedir: home });
    expect(loaded.merged).toEqual({ users: [], contexts: [] });
  });

  test("a file without users or contexts, and an entry without a name (named \"\", as Go decodes it)", async () => {
    const { path } = await fixture({ a: "contexts: null\n", b: "users:\n- user: {token: t}\n" });
    const loaded = await loadKubeconfig({ explicitPath: "", env: { KUBECONFIG: `${path("a")}:${path("b")}` }, homedir: "/h", separator: ":" });
    expect(loaded.merged).toEqual({ users: [{ user: { token: "t" } }], contexts: [] });
    expect([...loaded.origins]).toEqual([["", path("b")]]);
  });

  test("--kubeconfig wins over KUBECONFIG", async () => {
    const { path } = await fixture({ a: "", b: "" });
    expect(kubeconfigPaths({ explicitPath: path("a"), env: { KUBECONFIG: path("b") }, homedir: "/h" })).toEqual([path("a")]);
  });

  test("KUBECONFIG: split on the separator, duplicates and empty entries dropped", () => {
    expect(kubeconfigPaths({ explicitPath: "", env: { KUBECONFIG: "/a::/b:/a" }, homedir: "/h", separator: ":" })).toEqual(["/a", "/b"]);
    expect(kubeconfigPaths({ explicitPath: "", env: { KUBECONFIG: "C:\\a;C:\\b" }, homedir: "/h", separator: ";" })).toEqual(["C:\\a", "C:\\b"]);
  });

  test("no KUBECONFIG (or an empty one) means ~/.kube/config", () => {
    expect(kubeconfigPaths({ explicitPath: "", env: {}, homedir: "/home/me" })).toEqual(["/home/me/.kube/config"]);
    expect(kubeconfigPaths({ explicitPath: "", env: { KUBECONFIG: "" }, homedir: "/home/me" })).toEqual(["/home/me/.kube/config"]);
  });

  test("a missing ~/.kube/config is an empty config, not an error", async () => {
    const home = await tempDir();
    const loaded = await loadKubeconfig({ explicitPath: "", env: {}, homedir: home });
    expect(loaded.files).toEqual([]);
    expect(loaded.merged).toEqual({ users: [], contexts: [] });
    expect(await convertFiles([], {}, home)).toEqual([]);
  });

  test("missing KUBECONFIG files are tolerated; all missing gives klog's warning", async () => {
    const { path } = await fixture({ b: `users:\n- name: u\n  user: {token: t}\n` });
    const warnings: string[] = [];
    const some = await loadKubeconfig({ explicitPath: "", env: { KUBECONFIG: `${path("a")}:${path("b")}` }, homedir: "/h", separator: ":", warn: (m) => warnings.push(m) });
    expect(some.files.map((f) => f.path)).toEqual([path("b")]);
    expect(warnings).toEqual([]);
    await loadKubeconfig({ explicitPath: "", env: { KUBECONFIG: `${path("a")}:${path("c")}` }, homedir: "/h", separator: ":", warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([`Config not found: ${path("a")}, ${path("c")}`]);
  });

  test("the first file that defines a name wins, and each user remembers its file", async () => {
    const { path } = await fixture({
      a: `users:\n- name: shared\n  user: {token: from-a}\ncontexts:\n- name: ctx\n  context: {user: shared}\n`,
      b: `users:\n- name: shared\n  user: {token: from-b}\n- name: only-b\n  user: {token: b}\ncontexts:\n- name: ctx\n  context: {user: only-b}\n`,
    });
    const loaded = await loadKubeconfig({ explicitPath: "", env: { KUBECONFIG: `${path("a")}:${path("b")}` }, homedir: "/h", separator: ":" });
    expect(loaded.merged.users).toEqual([
      { name: "shared", user: { token: "from-a" } },
      { name: "only-b", user: { token: "b" } },
    ]);
    expect(loaded.merged.contexts).toEqual([{ name: "ctx", context: { user: "shared" } }]);
    expect([...loaded.origins]).toEqual([
      ["shared", path("a")],
      ["only-b", path("b")],
    ]);
  });

  test("empty and comment-only files are empty configs", () => {
    expect(parseKubeconfig("", "f")).toEqual({});
    expect(parseKubeconfig("# nothing here\n", "f")).toEqual({});
    expect(parseKubeconfig("---\n", "f")).toEqual({});
  });

  test.each([
    ["a YAML syntax error", "users:\n- name: u\n  user: [unclosed\n", 'error loading config file "F": yaml: line 4: '],
    ["a top-level list", "- a\n- b\n", 'error loading config file "F": expected a mapping at the top level, got a list'],
    ["users that is not a list", "users: {a: b}\n", 'error loading config file "F": users: expected a list, got a mapping'],
    ["a numeric user name", "users:\n- name: 12\n", 'error loading config file "F": users[0].name: expected a string, got a number'],
    ["exec args that are not strings", "users:\n- name: u\n  user:\n    exec:\n      command: kubelogin\n      args: [get-token, 1]\n", 'error loading config file "F": users[0].user.exec.args[1]: expected a string, got a number'],
    ["an unquoted numeric config-mode", "users:\n- name: u\n  user:\n    auth-provider:\n      name: azure\n      config: {config-mode: 1}\n", 'error loading config file "F": users[0].user.auth-provider.config.config-mode: expected a string, got a number'],
    ["two documents", "a: 1\n---\nb: 2\n", 'error loading config file "F": expected a single YAML document, found 2'],
  ])("%s is refused with the file's path", (_name, text, message) => {
    expect(() => parseKubeconfig(text, "F")).toThrow(`unable to load kubeconfig: ${message}`);
  });

  test("a directory in KUBECONFIG is reported like Go's read error", async () => {
    const { dir } = await fixture({});
    await expect(loadKubeconfig({ explicitPath: "", env: { KUBECONFIG: dir }, homedir: "/h" })).rejects.toThrow(
      `unable to load kubeconfig: error loading config file "${dir}": read ${dir}: is a directory`,
    );
  });
});

describe("writing back", () => {
  test("the converted user is rewritten in place and everything else survives byte for byte", async () => {
    const { path } = await fixture({ config: AKS_KUBECONFIG });
    expect(await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {})).toEqual([path("config")]);
    expect(await readFile(path("config"), "utf8")).toBe(AKS_KUBECONFIG.replace(AKS_PROVIDER_USER, CONVERTED_AKS_USER));
  });

  test("KUBECONFIG=a:b with the user in b rewrites only b", async () => {
    const a = `apiVersion: v1\nkind: Config\nusers:\n- name: someone-else\n  user:\n    token: abc\n`;
    const { path } = await fixture({ a, b: AKS_KUBECONFIG });
    const before = await snapshot(path("a"));
    const written = await convertFiles(["-l", "azurecli"], { KUBECONFIG: `${path("a")}:${path("b")}` });
    expect(written).toEqual([path("b")]);
    expect(await snapshot(path("a"))).toEqual(before);
    expect(await readFile(path("b"), "utf8")).toBe(AKS_KUBECONFIG.replace(AKS_PROVIDER_USER, CONVERTED_AKS_USER));
  });

  test("users from two files are each written back to their own file", async () => {
    const other = AKS_KUBECONFIG.replaceAll("clusterUser_rg_aks", "second_user").replace("- name: other\n", "- name: other2\n");
    const { path } = await fixture({ a: AKS_KUBECONFIG, b: other });
    const written = await convertFiles(["-l", "azurecli"], { KUBECONFIG: `${path("a")}:${path("b")}` });
    expect(written).toEqual([path("a"), path("b")]);
    expect(await readFile(path("a"), "utf8")).toContain("- name: clusterUser_rg_aks\n  user:\n    exec:");
    expect(await readFile(path("b"), "utf8")).toContain("- name: second_user\n  user:\n    exec:");
  });

  test("a user defined in both files is converted where it was loaded from: the first file", async () => {
    const { path } = await fixture({ a: AKS_KUBECONFIG, b: AKS_KUBECONFIG });
    const before = await snapshot(path("b"));
    expect(await convertFiles(["-l", "azurecli"], { KUBECONFIG: `${path("a")}:${path("b")}` })).toEqual([path("a")]);
    expect(await snapshot(path("b"))).toEqual(before);
  });

  test("a malformed file aborts before anything is written", async () => {
    const { path } = await fixture({ good: AKS_KUBECONFIG, bad: "users: [\n" });
    const good = await snapshot(path("good"));
    const bad = await snapshot(path("bad"));
    await expect(convertFiles(["-l", "azurecli"], { KUBECONFIG: `${path("good")}:${path("bad")}` })).rejects.toThrow(
      `unable to load kubeconfig: error loading config file "${path("bad")}": yaml:`,
    );
    expect(await snapshot(path("good"))).toEqual(good);
    expect(await snapshot(path("bad"))).toEqual(bad);
  });

  test("an unknown --context aborts before anything is written", async () => {
    const { path } = await fixture({ config: AKS_KUBECONFIG });
    const before = await snapshot(path("config"));
    await expect(convertFiles(["--kubeconfig", path("config"), "--context", "nope"], {})).rejects.toThrow('no context exists with the name: "nope"');
    expect(await snapshot(path("config"))).toEqual(before);
  });

  test("a conversion error in one user leaves every file untouched", async () => {
    const broken = `users:\n- name: broken\n  user:\n    exec:\n      command: kubelogin\n      args: [get-token]\n`;
    const { path } = await fixture({ a: AKS_KUBECONFIG, b: broken });
    const a = await snapshot(path("a"));
    await expect(convertFiles(["-l", "azurecli"], { KUBECONFIG: `${path("a")}:${path("b")}` })).rejects.toThrow("--server-id is required");
    expect(await snapshot(path("a"))).toEqual(a);
  });

  test("permission bits are kept (0640 stays 0640)", async () => {
    const { path } = await fixture({ config: AKS_KUBECONFIG });
    await chmod(path("config"), 0o640);
    await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {});
    expect((await stat(path("config"))).mode & 0o777).toBe(0o640);
  });

  test("nothing to convert: the file is not rewritten", async () => {
    const { path } = await fixture({ config: `apiVersion: v1\nusers:\n- name: u\n  user:\n    token: t\n` });
    const before = await snapshot(path("config"));
    expect(await convertFiles(["--kubeconfig", path("config")], {})).toEqual([]);
    expect(await snapshot(path("config"))).toEqual(before);
  });

  test("a second identical run does not rewrite the file (mtime and inode unchanged)", async () => {
    const { path } = await fixture({ config: AKS_KUBECONFIG });
    await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {});
    const first = await snapshot(path("config"));
    expect(await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {})).toEqual([]);
    expect(await snapshot(path("config"))).toEqual(first);
  });

  test("an existing <file>.lock fails, names the lock, and nothing is written", async () => {
    const { dir, path } = await fixture({ config: AKS_KUBECONFIG, "config.lock": "" });
    const before = await snapshot(path("config"));
    const run = convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {});
    await expect(run).rejects.toBeInstanceOf(KubeconfigLockedError);
    await expect(run).rejects.toMatchObject({
      message: `unable to lock kubeconfig: open ${path("config.lock")}: file exists`,
      hint: expect.stringContaining(`rm ${path("config.lock")}`),
    });
    expect(await snapshot(path("config"))).toEqual(before);
    // Someone else's lock is theirs to remove.
    expect((await readdir(dir)).sort()).toEqual(["config", "config.lock"]);
  });

  test("a lock on the second file means neither file is written", async () => {
    const other = AKS_KUBECONFIG.replaceAll("clusterUser_rg_aks", "second_user");
    const { dir, path } = await fixture({ a: AKS_KUBECONFIG, b: other, "b.lock": "" });
    const a = await snapshot(path("a"));
    await expect(convertFiles(["-l", "azurecli"], { KUBECONFIG: `${path("a")}:${path("b")}` })).rejects.toBeInstanceOf(KubeconfigLockedError);
    expect(await snapshot(path("a"))).toEqual(a);
    expect((await readdir(dir)).sort()).toEqual(["a", "b", "b.lock"]);
  });

  test("after success no lock or temp file is left behind", async () => {
    const { dir, path } = await fixture({ config: AKS_KUBECONFIG });
    await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {});
    expect(await readdir(dir)).toEqual(["config"]);
  });

  test("a symlinked kubeconfig stays a symlink; its target is replaced", async () => {
    const { dir, path } = await fixture({ real: AKS_KUBECONFIG });
    await mkdir(join(dir, "kube"));
    await symlink(path("real"), join(dir, "kube", "config"));
    await convertFiles(["--kubeconfig", join(dir, "kube", "config"), "-l", "azurecli"], {});
    expect((await lstat(join(dir, "kube", "config"))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, "kube", "config"))).toBe(path("real"));
    expect(await readFile(path("real"), "utf8")).toContain(CONVERTED_AKS_USER);
  });

  test("a hard-linked kubeconfig keeps its links: every name shows the converted file", async () => {
    const { dir, path } = await fixture({ config: AKS_KUBECONFIG });
    await link(path("config"), join(dir, "other-name"));
    const before = await stat(path("config"));
    await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {});
    const after = await stat(path("config"));
    expect({ ino: after.ino, nlink: after.nlink }).toEqual({ ino: before.ino, nlink: 2 });
    expect(await readFile(join(dir, "other-name"), "utf8")).toBe(AKS_KUBECONFIG.replace(AKS_PROVIDER_USER, CONVERTED_AKS_USER));
    expect((await readdir(dir)).sort()).toEqual(["config", "other-name"]);
  });

  test("owner, group and mode are kept", async () => {
    const { path } = await fixture({ config: AKS_KUBECONFIG });
    const owner = process.getuid?.() === 0 ? { uid: 4321, gid: 8765 } : { uid: process.getuid!(), gid: process.getgid!() };
    await chown(path("config"), owner.uid, owner.gid);
    await chmod(path("config"), 0o604);
    await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {});
    const after = await stat(path("config"));
    expect({ uid: after.uid, gid: after.gid, mode: after.mode & 0o7777 }).toEqual({ ...owner, mode: 0o604 });
    expect(await readFile(path("config"), "utf8")).toContain(CONVERTED_AKS_USER);
  });

  test("the user vanishing between load and write is an error, not a silent no-op", async () => {
    const { path } = await fixture({ config: AKS_KUBECONFIG });
    const loaded = await loadKubeconfig({ explicitPath: path("config"), env: {}, homedir: "/h" });
    const { changedUsers } = convertKubeconfig(loaded.merged, {
      options: resolveOptions(parseFlags(["-l", "azurecli"], GET_TOKEN_OPTIONS), {}, "/h").options,
      changed: new Set(["loginMethod"]),
    });
    await writeFile(path("config"), "users: []\n");
    await expect(writeKubeconfigChanges(planWrites(changedUsers, loaded.origins, path("config")))).rejects.toThrow(
      `unable to write kubeconfig ${path("config")}: user "clusterUser_rg_aks" is no longer in it`,
    );
    expect(await readFile(path("config"), "utf8")).toBe("users: []\n");
  });
});

describe("reading what kubectl reads, refusing what it refuses", () => {
  const kubectl = (path: string) => runProcess(kubectlBinary("1.29"), ["config", "view", "--kubeconfig", path], { PATH: "/usr/bin:/bin" });

  test("a key repeated at the top level (`cat a >> b`) is accepted and the last one wins, as kubectl does", async () => {
    const first = `apiVersion: v1\nkind: Config\nusers:\n- name: old\n  user: {token: t}\n`;
    const { path } = await fixture({ config: first + AKS_KUBECONFIG });
    expect((await kubectl(path("config"))).code).toBe(0);
    const loaded = await loadKubeconfig({ explicitPath: path("config"), env: {}, homedir: "/h" });
    expect(loaded.merged.users!.map((u) => u.name)).toEqual(["clusterUser_rg_aks", "other"]);
    expect(await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {})).toEqual([path("config")]);
    expect(await readFile(path("config"), "utf8")).toContain(CONVERTED_AKS_USER);
  });

  const encodings = [
    ["UTF-16LE with a BOM (Windows PowerShell 5's >)", (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")])],
    ["UTF-16BE with a BOM", (text: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()])],
    ["UTF-8 with a BOM", (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")])],
  ] as const;

  test.each(encodings)("%s is read and written back in the same encoding, only the user changed", async (_name, encode) => {
    const text = AKS_KUBECONFIG.replace("- name: other\n", "- name: \u00fcber-\u{1F600}\n");
    const { path } = await fixture({});
    await writeFile(path("config"), encode(text));
    expect((await kubectl(path("config"))).code).toBe(0);
    expect(await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {})).toEqual([path("config")]);
    expect(await readFile(path("config"))).toEqual(encode(text.replace(AKS_PROVIDER_USER, CONVERTED_AKS_USER)));
  });

  test.each([
    ["a Latin-1 byte inside the file", Buffer.from("users:\n- name: caf\xe9\n  user: {token: a}\n", "latin1"), "yaml: invalid trailing UTF-8 octet"],
    ["a Latin-1 byte at the very end", Buffer.from("users: []\n# caf\xe9\n", "latin1"), "yaml: incomplete UTF-8 octet sequence"],
    ["a byte that starts no UTF-8 sequence", Buffer.from("users: []\n# \xff\xff\xff\xff\n", "latin1"), "yaml: invalid leading UTF-8 octet"],
    ["an overlong encoding", Buffer.from("users: []\n# \xc0\x80 tail\n", "latin1"), "yaml: invalid length of a UTF-8 sequence"],
    ["a NUL byte", Buffer.from("users: []\n# \x00\n", "latin1"), "yaml: control characters are not allowed"],
    ["UTF-16 without a BOM", Buffer.from("users: []\n", "utf16le"), "yaml: control characters are not allowed"],
  ])("%s is refused with kubectl's text and nothing is written", async (_name, bytes, detail) => {
    const { path } = await fixture({});
    await writeFile(path("config"), bytes);
    const viaKubectl = await kubectl(path("config"));
    expect(viaKubectl.code).not.toBe(0);
    expect(viaKubectl.stderr).toContain(`error loading config file "${path("config")}": ${detail}`);
    await expect(convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {})).rejects.toThrow(
      `unable to load kubeconfig: error loading config file "${path("config")}": ${detail}`,
    );
    expect(await readFile(path("config"))).toEqual(bytes);
  });
});

describe("YAML aliases (client-go expands them)", () => {
  const SHARED = `contexts:
- name: a
  context: {user: ua}
- name: b
  context: {user: ub}
users:
- name: ua
  user: &shared
    exec:
      command: kubelogin
      args: [get-token, --server-id, ${SERVER}, --client-id, ${CLIENT}, --tenant-id, ${TENANT}]
- name: ub
  user: *shared
`;

  test("two users sharing one user node: --context converts only its own user", async () => {
    const { path } = await fixture({ config: SHARED });
    await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli", "--context", "b"], {});
    const users = parseKubeconfig(await readFile(path("config"), "utf8"), "f").users!;
    expect(users[0]).toEqual(parseKubeconfig(SHARED, "f").users![0]);
    expect((users[1]!.user!.exec as { args: string[] }).args).toEqual(["get-token", "--login", "azurecli", "--server-id", SERVER]);
  });

  test("converting the user that holds the anchor leaves the alias's user as it was", async () => {
    const { path } = await fixture({ config: SHARED });
    await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli", "--context", "a"], {});
    const users = parseKubeconfig(await readFile(path("config"), "utf8"), "f").users!;
    expect((users[0]!.user!.exec as { args: string[] }).args).toEqual(["get-token", "--login", "azurecli", "--server-id", SERVER]);
    expect(users[1]).toEqual(parseKubeconfig(SHARED, "f").users![1]);
  });

  test("an alias used as a list item is converted, not reported as a file that changed", async () => {
    const text = `x: &item\n  name: ua\n  user:\n    auth-provider:\n      name: azure\n      config: {apiserver-id: ${SERVER}}\nusers:\n- *item\n`;
    const { path } = await fixture({ config: text });
    expect(await convertFiles(["--kubeconfig", path("config"), "-l", "azurecli"], {})).toEqual([path("config")]);
    const doc = parseKubeconfig(await readFile(path("config"), "utf8"), "f");
    expect(doc.x).toEqual(parseKubeconfig(text, "f").x);
    expect(doc.users).toEqual([{ name: "ua", user: { exec: expect.objectContaining({ args: ["get-token", "--login", "azurecli", "--server-id", SERVER] }) } }]);
  });

  test("a billion-laughs file is refused with go-yaml's text, not expanded", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) levels.push(`${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(10).fill(`*${"abcdefghij"[i - 1]}`).join(", ")}]`);
    expect(() => parseKubeconfig(levels.join("\n") + "\n", "F")).toThrow('error loading config file "F": yaml: document contains excessive aliasing');
  });
});

describe("patchKubeconfigText (YAML-level edit)", () => {
  const exec = {
    apiVersion: "client.authentication.k8s.io/v1beta1",
    args: ["get-token", "--login", "azd", "--server-id", "s"],
    command: "kubelogin",
    env: null,
    installHint: "hint",
    provideClusterInfo: false,
  };

  test("an indented-sequence file keeps its style", () => {
    const text = `users:\n  - name: u\n    user:\n      exec:\n        command: kubelogin\n        args: [get-token]\n  - name: v\n    user:\n      token: t\n`;
    expect(patchKubeconfigText(text, "f", [{ name: "u", exec }])).toBe(
      `users:\n  - name: u\n    user:\n      exec:\n        apiVersion: client.authentication.k8s.io/v1beta1\n        args:\n          - get-token\n          - --login\n          - azd\n          - --server-id\n          - s\n        command: kubelogin\n        env: null\n        installHint: hint\n        provideClusterInfo: false\n  - name: v\n    user:\n      token: t\n`,
    );
  });

  test("a flow-style user mapping gets a flow-style stanza that reads back the same", () => {
    const text = `users:\n- name: u\n  user: {exec: {command: kubelogin, args: [get-token]}, token: t}\n`;
    const out = patchKubeconfigText(text, "f", [{ name: "u", exec: { ...exec, installHint: "\nline one\n\nline two\n" } }]);
    expect(parseKubeconfig(out, "f")).toEqual({ users: [{ name: "u", user: { exec: { ...exec, installHint: "\nline one\n\nline two\n" }, token: "t" } }] });
  });

  test("other exec users are not given defaulted fields (unlike client-go)", () => {
    const text = `users:\n- name: u\n  user:\n    auth-provider: {name: azure}\n- name: v\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: other\n`;
    const out = patchKubeconfigText(text, "f", [{ name: "u", exec }]);
    expect(out.endsWith(`- name: v\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: other\n`)).toBe(true);
    expect(out).not.toContain("interactiveMode");
  });

  test("values Go's YAML 1.1 would misread are quoted in the new stanza; existing scalars keep their spelling", () => {
    const text = `clusters:\n- cluster:\n    insecure-skip-tls-verify: yes\n  name: c\nusers:\n- name: u\n  user:\n    auth-provider: {name: azure}\n`;
    const out = patchKubeconfigText(text, "f", [{ name: "u", exec: { ...exec, args: ["get-token", "--tenant-id", "yes", "--server-id", "1e3", "--client-id", "2001-12-14", "--x", "null"] } }]);
    expect(out).toContain("insecure-skip-tls-verify: yes\n");
    expect(out).toContain(`      - get-token\n      - --tenant-id\n      - 'yes'\n      - --server-id\n      - '1e3'\n      - --client-id\n      - '2001-12-14'\n      - --x\n      - 'null'\n`);
  });

  test("a user whose node is an alias of a node outside users is converted; the anchored node is not", () => {
    const text = `x: &u\n  exec: {command: kubelogin}\nusers:\n- name: u\n  user: *u\n`;
    const out = patchKubeconfigText(text, "f", [{ name: "u", exec }]);
    expect(parseKubeconfig(out, "f")).toEqual({ x: { exec: { command: "kubelogin" } }, users: [{ name: "u", user: { exec } }] });
  });

  test("a patch that changes nothing returns the text unchanged", () => {
    const text = `users:\n- name: u\n  user:\n    exec: ${JSON.stringify(exec)}\n`;
    expect(patchKubeconfigText(text, "f", [{ name: "u", exec }])).toBe(text);
  });
});
