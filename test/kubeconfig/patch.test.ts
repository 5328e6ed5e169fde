// patchKubeconfigText's node-level edits: where the stanza goes, which nodes an alias shares and
// so are copied, how entries are found (nameless, null names, the last of a name), the errors for
// a file that changed under the converter, and the style of what is written.
import { describe, expect, test } from "vitest";
import { KubeconfigError } from "../../src/errors.js";
import { parseKubeconfig, type ExecConfig } from "../../src/kubeconfig/model.js";
import { patchKubeconfigText } from "../../src/kubeconfig/patch.js";

const exec: ExecConfig = {
  apiVersion: "client.authentication.k8s.io/v1beta1",
  args: ["get-token", "--login", "azd"],
  command: "kubelogin",
  env: null,
  installHint: "hint",
  provideClusterInfo: false,
};
const STANZA = `exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      args:\n      - get-token\n      - --login\n      - azd\n      command: kubelogin\n      env: null\n      installHint: hint\n      provideClusterInfo: false\n`;
const PROVIDER = "auth-provider: {name: azure}";
const patch = (text: string, name = "u") => patchKubeconfigText(text, "f", [{ name, exec }]);
const failure = (text: string, name = "u"): KubeconfigError => {
  try {
    patch(text, name);
  } catch (err) {
    return err as KubeconfigError;
  }
  throw new Error("patched");
};

describe("where the stanza goes", () => {
  test("in the auth-provider's place, between the other keys", () => {
    expect(patch(`users:\n- name: u\n  user:\n    a: 1\n    ${PROVIDER}\n    b: 2\n`)).toBe(`users:\n- name: u\n  user:\n    a: 1\n    ${STANZA}    b: 2\n`);
  });

  test("first and last too", () => {
    expect(patch(`users:\n- name: u\n  user:\n    ${PROVIDER}\n    b: 2\n`)).toBe(`users:\n- name: u\n  user:\n    ${STANZA}    b: 2\n`);
    expect(patch(`users:\n- name: u\n  user:\n    a: 1\n    ${PROVIDER}\n`)).toBe(`users:\n- name: u\n  user:\n    a: 1\n    ${STANZA}`);
  });

  test("an auth-provider beside an exec that already matches still goes", () => {
    const text = `users:\n- name: u\n  user:\n    exec: ${JSON.stringify(exec)}\n    ${PROVIDER}\n`;
    expect(patch(text)).toBe(`users:\n- name: u\n  user:\n    ${STANZA}`);
  });

  test("a flow-style user gets a flow-style stanza", () => {
    expect(patch(`users:\n- name: u\n  user: {${PROVIDER}, token: t}\n`)).toBe(
      "users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, args: [get-token, --login, azd], command: kubelogin, env: null, installHint: hint, provideClusterInfo: false}, token: t}\n",
    );
  });

  test("a value YAML 1.1 cannot read at all is quoted", () => {
    const out = patchKubeconfigText(`users:\n- name: u\n  user: {${PROVIDER}}\n`, "f", [{ name: "u", exec: { ...exec, args: ["[x", "*y", "plain"] } }]);
    expect(out).toContain("args: ['[x', '*y', plain]");
    expect(parseKubeconfig(out, "f").users![0]!.user!.exec).toEqual({ ...exec, args: ["[x", "*y", "plain"] });
  });
});

describe("finding the user", () => {
  test("a nameless entry, or one named null, is the user named \"\"", () => {
    expect(patch(`users:\n- user: {${PROVIDER}}\n`, "")).toContain("exec:");
    expect(patch(`users:\n- name: ~\n  user: {${PROVIDER}}\n`, "")).toContain("exec:");
    expect(patch(`users:\n- name: null\n  user: {${PROVIDER}}\n`, "")).toContain("exec:");
  });

  test("a name after the user key is found", () => {
    expect(patch(`users:\n- user: {${PROVIDER}}\n  name: u\n`)).toContain("{exec: {");
  });

  test("the users list given by an alias is copied and converted", () => {
    const text = `all: &all\n- name: u\n  user: {${PROVIDER}}\nusers: *all\n`;
    const out = patch(text);
    const doc = parseKubeconfig(out, "f");
    expect(doc.users).toEqual([{ name: "u", user: { exec } }]);
    expect(doc.all).toEqual([{ name: "u", user: { "auth-provider": { name: "azure" } } }]);
  });

  test("an alias elsewhere to the users list keeps the list as it was", () => {
    const text = `users: &all\n- name: u\n  user: {${PROVIDER}}\nbackup: *all\n`;
    const doc = parseKubeconfig(patch(text), "f");
    expect(doc.users).toEqual([{ name: "u", user: { exec } }]);
    expect(doc.backup).toEqual([{ name: "u", user: { "auth-provider": { name: "azure" } } }]);
  });

  test("an alias inside a copied user stays an alias", () => {
    const text = `tok: &t secret\nbase: &u\n  ${PROVIDER}\n  token: *t\nusers:\n- name: u\n  user: *u\n`;
    const out = patch(text);
    expect(out).toContain("token: *t");
    expect(parseKubeconfig(out, "f").users).toEqual([{ name: "u", user: { exec, token: "secret" } }]);
  });
});

describe("a file that changed under the converter", () => {
  test.each([
    ["no users at all", "clusters: []\n"],
    ["no such user", `users:\n- name: other\n  user: {${PROVIDER}}\n`],
    ["only a user without a body", "users:\n- name: u\n"],
  ])("%s: the user is gone", (_, text) => {
    const err = failure(text);
    expect(err).toBeInstanceOf(KubeconfigError);
    expect(err.message).toBe('unable to write kubeconfig f: user "u" is no longer in it');
    expect(err.hint).toBe("the file changed while converting; nothing was written, run the command again");
  });

  test("the last entry of the name has no editable user: refused, not guessed", () => {
    for (const last of ["- name: u\n", "- name: u\n  user: null\n"]) {
      const err = failure(`users:\n- name: u\n  user: {${PROVIDER}}\n${last}`);
      expect(err.message).toBe("unable to write kubeconfig f: cannot edit users[name=u].user: it is not a mapping or list as a kubeconfig has it");
      expect(err.hint).toBe("nothing was written; convert this user by hand");
    }
  });
});

describe("the sequence style of the file", () => {
  test("all-flow files get kubectl's flush style", () => {
    expect(patch(`users: [{name: u, user: {${PROVIDER}}}]\n`)).toContain("exec: {");
    expect(patch(`kind: Config\nusers:\n- name: u\n  user:\n    ${PROVIDER}\n`)).toContain("\n      args:\n      - get-token\n");
  });

  test("an indented file keeps indenting, also with CRLF line ends and trailing blanks after the key", () => {
    const out = patch(`users: \r\n  - name: u\r\n    user:\r\n      ${PROVIDER}\r\n`);
    expect(out).toContain("\n        args:\n          - get-token\n");
  });

  test("a flush sequence anywhere wins over an indented one", () => {
    const out = patch(`clusters:\n  - name: c\nusers:\n- name: u\n  user:\n    ${PROVIDER}\n`);
    expect(out).toContain("\n      args:\n      - get-token\n");
  });

  test("a commented or indented key does not decide the style", () => {
    const out = patch(`# users:\n#   - x\nusers:\n- name: u\n  user:\n    ${PROVIDER}\n    extra:\n      list:\n        - a\n`);
    expect(out).toContain("\n      args:\n      - get-token\n");
  });
});
