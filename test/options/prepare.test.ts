// prepareOptions: the one parse → resolve → redact → log → validate pipeline of get-token and
// convert-kubeconfig, and describeOrigin, the only writer of provenance text.
import { describe, expect, test } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { describeOrigin, type Origin } from "../../src/options/origin.js";
import { prepareOptions } from "../../src/options/prepare.js";
import { CONVERT_ONLY_OPTIONS, GET_TOKEN_OPTIONS, GLOBAL_OPTIONS, type LoginMode } from "../../src/options/table.js";
import { testRuntime } from "../support/runtime.js";

const SPECS = [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS];

describe("describeOrigin", () => {
  test.each<[Origin, string]>([
    [{ kind: "default" }, "default"],
    [{ kind: "flag", flag: "--client-id" }, "flag --client-id"],
    [{ kind: "env", name: "AZURE_CLIENT_ID", overrode: "--client-id" }, "env AZURE_CLIENT_ID (overrode --client-id)"],
    [{ kind: "env", name: "KUBECACHEDIR" }, "env KUBECACHEDIR"],
  ])("%j → %s", (origin, text) => {
    expect(describeOrigin(origin)).toBe(text);
  });
});

describe("prepareOptions", () => {
  test("every secret the table marks is redacted from the -v log, whether from a flag or the environment", () => {
    const rt = testRuntime({ env: { AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD: "env-pfx-passphrase" } });
    const ctx = rt.context(10);
    prepareOptions(["-l", "ropc", "--password", "flag-user-passphrase", "--client-secret", "flag-client-secret"], SPECS, ctx);
    expect(ctx.log.secrets).toEqual(expect.arrayContaining(["flag-client-secret", "env-pfx-passphrase", "flag-user-passphrase"]));
    ctx.log.v(1, "echo flag-client-secret env-pfx-passphrase flag-user-passphrase");
    expect(rt.stderr.text()).toContain("options: login=\"ropc\" [flag --login]");
    for (const secret of ["flag-client-secret", "env-pfx-passphrase", "flag-user-passphrase"]) expect(rt.stderr.text()).not.toContain(secret);
  });

  test("prints the deprecation notices, keeps the parsed flags and narrows the login method", () => {
    const rt = testRuntime();
    const prepared = prepareOptions(["--token-cache-dir", "/old", "-l", "spn", "--context", "ctx"], [...SPECS, ...CONVERT_ONLY_OPTIONS], rt.context());
    const mode: LoginMode = prepared.options.loginMethod;
    expect(mode).toBe("spn");
    expect(prepared.flags.values.context).toBe("ctx");
    expect(prepared.provenance.cacheDir).toEqual({ kind: "flag", flag: "--token-cache-dir" });
    expect(rt.stderr.text()).toBe("Flag --token-cache-dir has been deprecated, use --cache-dir instead\n");
  });

  test("validates after logging, so -v shows the value that failed", () => {
    const rt = testRuntime({ env: { AAD_LOGIN_METHOD: "magic" } });
    expect(() => prepareOptions([], SPECS, rt.context(1))).toThrow(
      expect.objectContaining({ name: ValidationError.name, hint: "the value came from AAD_LOGIN_METHOD; fix or unset it" }),
    );
    expect(rt.stderr.text()).toContain('login="magic" [env AAD_LOGIN_METHOD]');
  });
});
