// KUBERNETES_EXEC_INFO → output apiVersion, the decision table of compat spec §2.1.
import { describe, expect, test } from "vitest";
import { ExecInfoError } from "../../src/errors.js";
import { parseExecInfo, V1, V1BETA1, type ExecInfo } from "../../src/exec/exec-info.js";
import { strconvQuote } from "../../src/options/go-quote.js";

const HINT = "KUBERNETES_EXEC_INFO is set by kubectl; unset it when running kubelogin by hand";
const unmarshal = (message: string) => expect.objectContaining({ name: "ExecInfoError", message, hint: HINT });

describe("parseExecInfo decision table", () => {
  test.each<[string, string | undefined, ExecInfo]>([
    ["unset", undefined, { apiVersion: V1BETA1, interactive: false }],
    ["empty string", "", { apiVersion: V1BETA1, interactive: false }],
    ["{}", "{}", { apiVersion: V1BETA1, interactive: false }],
    ["JSON null (encoding/json leaves the struct empty)", "null", { apiVersion: V1BETA1, interactive: false }],
    ['apiVersion ""', '{"apiVersion":""}', { apiVersion: V1BETA1, interactive: false }],
    ["apiVersion null", '{"apiVersion":null}', { apiVersion: V1BETA1, interactive: false }],
    ["v1beta1", '{"apiVersion":"client.authentication.k8s.io/v1beta1"}', { apiVersion: V1BETA1, interactive: false }],
    ["v1", '{"apiVersion":"client.authentication.k8s.io/v1"}', { apiVersion: V1, interactive: false }],
    [
      "what kubectl sends for v1",
      '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}',
      { apiVersion: V1, interactive: true },
    ],
    [
      "what kubectl sends for v1beta1 without a terminal",
      '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}\n',
      { apiVersion: V1BETA1, interactive: false },
    ],
    ["keys match case-insensitively, like encoding/json", '{"APIVersion":"client.authentication.k8s.io/v1","Spec":{"Interactive":true}}', { apiVersion: V1, interactive: true }],
    ["unknown fields are ignored", '{"apiVersion":"client.authentication.k8s.io/v1","extra":[1,2],"status":{}}', { apiVersion: V1, interactive: false }],
    ["spec without interactive", '{"apiVersion":"client.authentication.k8s.io/v1","spec":{}}', { apiVersion: V1, interactive: false }],
    ["spec null", '{"apiVersion":"client.authentication.k8s.io/v1","spec":null}', { apiVersion: V1, interactive: false }],
  ])("%s", (_name, raw, want) => {
    expect(parseExecInfo(raw)).toEqual(want);
  });

  test.each<[string, string]>([
    ["client.authentication.k8s.io/v1alpha1", "api version: client.authentication.k8s.io/v1alpha1 is not supported"],
    ["client.authentication.k8s.io/V1", "api version: client.authentication.k8s.io/V1 is not supported"],
    ["v1", "api version: v1 is not supported"],
    [" client.authentication.k8s.io/v1", "api version:  client.authentication.k8s.io/v1 is not supported"],
  ])("apiVersion %j is rejected", (apiVersion, message) => {
    const raw = JSON.stringify({ apiVersion });
    expect(() => parseExecInfo(raw)).toThrow(ExecInfoError);
    expect(() => parseExecInfo(raw)).toThrow(
      expect.objectContaining({ message, hint: "the kubeconfig exec stanza must use apiVersion client.authentication.k8s.io/v1beta1 or client.authentication.k8s.io/v1" }),
    );
  });
});

describe("unparsable KUBERNETES_EXEC_INFO", () => {
  test.each<[string, string]>([
    ["not json", "invalid character 'o' in literal null (expecting 'u')"],
    ["garbage", "invalid character 'g' looking for beginning of value"],
    ["undefined", "invalid character 'u' looking for beginning of value"],
    ["   ", "unexpected end of JSON input"],
    ['{"apiVersion":', "unexpected end of JSON input"],
    ['{"apiVersion":"client.authentication.k8s.io/v1"', "unexpected end of JSON input"],
    ['"abc', "unexpected end of JSON input"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ["[1,]", "invalid character ']' looking for beginning of value"],
    ["tab\there", "invalid character 'a' in literal true (expecting 'r')"],
    ['{"a":nul}', "invalid character '}' in literal null (expecting 'l')"],
    ["\u0001", "invalid character '\\x01' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ['{"a":01}', "invalid character '1' after object key:value pair"],
    ["[1 2]", "invalid character '2' after array element"],
    ["{} x", "invalid character 'x' after top-level value"],
    ['{"a":"\u0001"}', "invalid character '\\x01' in string literal"],
    ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
    ['{"a":"\\u12x4"}', "invalid character 'x' in \\u hexadecimal character escape"],
    ['{"a":-x}', "invalid character 'x' in numeric literal"],
    ["-", "invalid character ' ' in numeric literal"],
    ['{"a":1.}', "invalid character '}' after decimal point in numeric literal"],
    ['{"a":1e}', "invalid character '}' in exponent of numeric literal"],
    // Go reports the first byte of a multi-byte character, as the Latin-1 rune of that value.
    ["\ufeff{}", "invalid character 'ï' looking for beginning of value"],
    ["é", "invalid character 'Ã' looking for beginning of value"],
  ])("%j → encoding/json's syntax error", (raw, reason) => {
    expect(() => parseExecInfo(raw)).toThrow(unmarshal(`cannot unmarshal ${strconvQuote(raw)} to ExecCredential: ${reason}`));
  });

  test("nesting: 10,000 levels parse, one more is encoding/json's max-depth error", () => {
    const nested = (depth: number): string => `{"a":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;
    expect(parseExecInfo(nested(10_000))).toEqual({ apiVersion: V1BETA1, interactive: false });
    expect(() => parseExecInfo(nested(10_001))).toThrow(expect.objectContaining({ message: expect.stringMatching(/ to ExecCredential: invalid character '\[' exceeded max depth$/) }));
  });

  test.each<[string, string]>([
    ["[]", 'cannot unmarshal "[]" to ExecCredential: json: cannot unmarshal array into Go value of type clientauthentication.ExecCredential'],
    ['"v1"', 'cannot unmarshal "\\"v1\\"" to ExecCredential: json: cannot unmarshal string into Go value of type clientauthentication.ExecCredential'],
    ["1", 'cannot unmarshal "1" to ExecCredential: json: cannot unmarshal number into Go value of type clientauthentication.ExecCredential'],
    ["true", 'cannot unmarshal "true" to ExecCredential: json: cannot unmarshal bool into Go value of type clientauthentication.ExecCredential'],
    [
      '{"apiVersion":1}',
      'cannot unmarshal "{\\"apiVersion\\":1}" to ExecCredential: json: cannot unmarshal number into Go struct field ExecCredential.TypeMeta.apiVersion of type string',
    ],
    [
      '{"spec":[]}',
      'cannot unmarshal "{\\"spec\\":[]}" to ExecCredential: json: cannot unmarshal array into Go struct field ExecCredential.Spec of type clientauthentication.ExecCredentialSpec',
    ],
    [
      '{"spec":{"interactive":"yes"}}',
      'cannot unmarshal "{\\"spec\\":{\\"interactive\\":\\"yes\\"}}" to ExecCredential: json: cannot unmarshal string into Go struct field ExecCredentialSpec.Spec.Interactive of type bool',
    ],
  ])("%j has the wrong JSON types", (raw, message) => {
    expect(() => parseExecInfo(raw)).toThrow(unmarshal(message));
  });
});

