// parseKubeconfig's typed checks (what client-go's decode refuses, with the field's path and the
// kind found), alias expansion, and the small helpers the converter uses.
import { describe, expect, test } from "vitest";
import { KubeconfigError } from "../../src/errors.js";
import { allowedAliasRatio, applyExec, decodeKubeconfigFile, isMap, loadError, parseKubeconfig, stringField, type ExecConfig } from "../../src/kubeconfig/model.js";

const refused = (text: string): string => {
  try {
    parseKubeconfig(text, "F");
  } catch (err) {
    expect(err).toBeInstanceOf(KubeconfigError);
    return (err as Error).message.replace('unable to load kubeconfig: error loading config file "F": ', "");
  }
  return "accepted";
};

describe("parseKubeconfig refuses what client-go's typed decode refuses", () => {
  test.each([
    ["a scalar document", "just text\n", "expected a mapping at the top level, got a string"],
    ["a number document", "12\n", "expected a mapping at the top level, got a number"],
    ["a boolean document", "true\n", "expected a mapping at the top level, got a boolean"],
    ["users as a string", "users: x\n", "users: expected a list, got a string"],
    ["users as a number", "users: 1\n", "users: expected a list, got a number"],
    ["a user that is a string", "users:\n- x\n", "users[0]: expected a mapping, got a string"],
    ["a second user that is null", "users:\n- name: a\n- null\n", "users[1]: expected a mapping, got null"],
    ["a user that is a list", "users:\n- [a]\n", "users[0]: expected a mapping, got a list"],
    ["user that is a list", "users:\n- name: a\n  user: [x]\n", "users[0].user: expected a mapping, got a list"],
    ["exec that is a string", "users:\n- name: a\n  user: {exec: x}\n", "users[0].user.exec: expected a mapping, got a string"],
    ["exec command that is a mapping", "users:\n- name: a\n  user: {exec: {command: {a: b}}}\n", "users[0].user.exec.command: expected a string, got a mapping"],
    ["exec installHint that is a list", "users:\n- name: a\n  user: {exec: {installHint: [a]}}\n", "users[0].user.exec.installHint: expected a string, got a list"],
    ["exec args that is a string", "users:\n- name: a\n  user: {exec: {args: get-token}}\n", "users[0].user.exec.args: expected a list of strings, got a string"],
    ["exec args with a null", "users:\n- name: a\n  user: {exec: {args: [a, null]}}\n", "users[0].user.exec.args[1]: expected a string, got null"],
    ["auth-provider that is a list", "users:\n- name: a\n  user: {auth-provider: [x]}\n", "users[0].user.auth-provider: expected a mapping, got a list"],
    ["auth-provider name that is a boolean", "users:\n- name: a\n  user: {auth-provider: {name: true}}\n", "users[0].user.auth-provider.name: expected a string, got a boolean"],
    ["auth-provider config that is a string", "users:\n- name: a\n  user: {auth-provider: {name: azure, config: x}}\n", "users[0].user.auth-provider.config: expected a mapping, got a string"],
    ["a config value that is a list", "users:\n- name: a\n  user: {auth-provider: {name: azure, config: {tenant-id: t, client-id: [c]}}}\n", "users[0].user.auth-provider.config.client-id: expected a string, got a list"],
    ["contexts as a mapping", "contexts: {a: b}\n", "contexts: expected a list, got a mapping"],
    ["a context that is a number", "contexts:\n- 1\n", "contexts[0]: expected a mapping, got a number"],
    ["a context name that is a list", "contexts:\n- name: [a]\n", "contexts[0].name: expected a string, got a list"],
    ["context that is a string", "contexts:\n- name: a\n  context: x\n", "contexts[0].context: expected a mapping, got a string"],
    ["a context user that is a number", "contexts:\n- name: a\n  context: {user: 1}\n", "contexts[0].context.user: expected a string, got a number"],
  ])("%s", (_, text, message) => {
    expect(refused(text)).toBe(message);
  });

  test("accepts absent and null fields, as Go decodes them to zero values", () => {
    const text = [
      "users:",
      "- name: a",
      "  user: null",
      "- name: b",
      "  user: {exec: null, auth-provider: null}",
      "- name: c",
      "  user: {exec: {command: null, installHint: null, args: null}, auth-provider: {name: null, config: null}}",
      "- name: d",
      "  user: {auth-provider: {name: azure, config: {tenant-id: null}}}",
      "contexts:",
      "- name: x",
      "  context: null",
      "- name: y",
      "  context: {user: null}",
      "",
    ].join("\n");
    expect(refused(text)).toBe("accepted");
    expect(refused("users: null\ncontexts: null\n")).toBe("accepted");
    expect(parseKubeconfig("null\n", "F")).toEqual({});
    expect(parseKubeconfig("~\n", "F")).toEqual({});
  });

  test("a YAML error names the line, whether parsing or constructing found it", () => {
    expect(refused("a: [\n")).toMatch(/^yaml: line \d+: /);
    expect(refused("a: 1\nb: !custom x\n")).toBe("yaml: line 2: unknown scalar tag !<!custom>");
  });

  test("loadError wraps a detail with upstream's prefix, the hint and the cause", () => {
    const cause = new Error("x");
    const err = loadError("/k/config", "bad", cause);
    expect(err.message).toBe('unable to load kubeconfig: error loading config file "/k/config": bad');
    expect(err.hint).toBe("fix or remove /k/config; nothing was written");
    expect(err.cause).toBe(cause);
  });

  test("decodeKubeconfigFile words a decode failure as a load error of that file", () => {
    expect(() => decodeKubeconfigFile(Buffer.from([0xff]), "/k/config")).toThrow(
      'unable to load kubeconfig: error loading config file "/k/config": yaml: invalid leading UTF-8 octet',
    );
    expect(decodeKubeconfigFile(Buffer.from("a: 1\n"), "/k/config")).toEqual({ text: "a: 1\n", encoding: "utf8" });
  });
});

describe("aliases", () => {
  test("every alias becomes its own copy, so editing one user edits no other", () => {
    const doc = parseKubeconfig("base: &u {token: t, list: [1, 2]}\nusers:\n- name: a\n  user: *u\n- name: b\n  user: *u\n", "F");
    expect(doc.users![0]!.user).toEqual({ token: "t", list: [1, 2] });
    expect(doc.users![0]!.user).not.toBe(doc.users![1]!.user);
    expect(doc.users![0]!.user!.list).not.toBe(doc.users![1]!.user!.list);
    expect(doc.users![0]!.user).not.toBe(doc.base);
    (doc.users![0]!.user!.list as number[]).push(3);
    expect(doc.users![1]!.user!.list).toEqual([1, 2]);
  });

  test("a __proto__ key is kept as a key, not made the prototype", () => {
    const doc = parseKubeconfig('base: &b {"__proto__": {polluted: 1}, k: v}\nagain: *b\n', "F");
    const again = doc.again as Record<string, unknown>;
    expect(Object.keys(again)).toEqual(["__proto__", "k"]);
    expect(Object.getPrototypeOf(again)).toBe(Object.prototype);
    expect((again as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(again, "__proto__")).toMatchObject({ value: { polluted: 1 }, enumerable: true, writable: true, configurable: true });
  });
});

describe("go-yaml's alias limit", () => {
  const list = (item: string, count: number): string => `[${Array.from({ length: count }, () => item).join(", ")}]`;

  test("allowedAliasRatio: 99% up to 400,000 nodes, falling linearly to 10% at four million", () => {
    expect(allowedAliasRatio(1)).toBe(0.99);
    expect(allowedAliasRatio(400_000)).toBe(0.99);
    expect(allowedAliasRatio(2_200_000)).toBeCloseTo(0.545, 10);
    expect(allowedAliasRatio(3_999_999)).toBeCloseTo(0.1, 6);
    expect(allowedAliasRatio(3_999_999)).toBeGreaterThan(0.1);
    expect(allowedAliasRatio(4_000_000)).toBe(0.1);
    expect(allowedAliasRatio(40_000_000)).toBe(0.1);
  });

  test("aliases that are a fair share of a document are expanded", () => {
    // 1,000 plain values beside 20 aliases of a 10-item list: 200 of about 1,250 nodes aliased.
    const doc = parseKubeconfig(`a: &a ${list("x", 10)}
b: ${list("*a", 20)}
c: ${list("y", 1000)}
`, "F");
    expect((doc.b as unknown[]).length).toBe(20);
  });

  test("past 400,000 nodes, a share of aliases that was allowed below is refused", () => {
    // About 98.5% aliased: under the 99% of a small document, over the limit once it passes ~420,000 nodes.
    expect(refused(`a: &a ${list("x", 66)}
b: ${list("*a", 5000)}
`)).toBe("accepted");
    expect(refused(`a: &a ${list("x", 66)}
b: ${list("*a", 7000)}
`)).toBe("yaml: document contains excessive aliasing");
  });
});

describe("helpers", () => {
  test("isMap is true only for a plain mapping", () => {
    expect(isMap({})).toBe(true);
    for (const value of [null, undefined, [], "x", 1, true]) expect(isMap(value)).toBe(false);
  });

  test("stringField is the string, or \"\" for anything else", () => {
    expect(stringField({ a: "x" }, "a")).toBe("x");
    expect(stringField({ a: 1 }, "a")).toBe("");
    expect(stringField({}, "a")).toBe("");
    expect(stringField(null, "a")).toBe("");
    expect(stringField(undefined, "a")).toBe("");
  });

  const exec = { apiVersion: "v", args: [], command: "kubelogin", env: null, installHint: "", provideClusterInfo: false } satisfies ExecConfig;
  test("applyExec puts exec where exec or auth-provider was, else last, and drops auth-provider", () => {
    const provider: Record<string, unknown> = { a: 1, "auth-provider": {}, b: 2 };
    applyExec(provider, exec);
    expect(Object.entries(provider)).toEqual([["a", 1], ["exec", exec], ["b", 2]]);
    const both: Record<string, unknown> = { exec: {}, a: 1, "auth-provider": {} };
    applyExec(both, exec);
    expect(Object.entries(both)).toEqual([["exec", exec], ["a", 1]]);
    const neither: Record<string, unknown> = { a: 1, b: 2 };
    applyExec(neither, exec);
    expect(Object.entries(neither)).toEqual([["a", 1], ["b", 2], ["exec", exec]]);
  });
});
