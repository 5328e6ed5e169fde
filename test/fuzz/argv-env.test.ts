// Generated command lines, environments and KUBERNETES_EXEC_INFO (issue 12, item 7), in-process
// with no network and no programs: whatever the input, kubelogin exits 0 or 1 with at most one
// `Error:` line and nothing on stdout but help (when asked) or an ExecCredential.
import fc from "fast-check";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, test } from "vitest";
import { GET_TOKEN_OPTIONS, GLOBAL_OPTIONS, CONVERT_ONLY_OPTIONS } from "../../src/options/table.js";
import { testRuntime } from "../support/runtime.js";
import { missingProgram, refusingFetch, runChecked } from "./invariants.js";

// Bounded so the suite stays fast; raise locally with FUZZ_RUNS to search harder.
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const NOW = "2026-06-01T12:00:00Z";

/** Flags that name a file or directory kubelogin writes: pinned to a temp dir, never generated. */
const WRITES = /^-{1,2}(cache-dir|token-cache-dir|kubeconfig)(=|$)/;

const flagNames = [...GET_TOKEN_OPTIONS, ...CONVERT_ONLY_OPTIONS, ...GLOBAL_OPTIONS]
  .flatMap((o) => ("short" in o && o.short ? [o.flag, o.short] : [o.flag]))
  .filter((flag) => !WRITES.test(flag));

/** Odd text: control characters, quotes, newlines, unicode, Go-duration and number look-alikes. */
const oddText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("", " ", "\n", "Error: injected", "-", "--", "=", "\u0000", "'\"`", "1h", "-1s", "0", "9999999999999", "1e400", "NaN", "true", "False", "%s%d", "\u202e", "devicecode", "spn", "msi", "azurecli"),
);
const loginModes = fc.constantFrom("devicecode", "interactive", "spn", "ropc", "msi", "azurecli", "azd", "workloadidentity", "azurepipelines", "SPN", "", "nope");
const flagToken = fc.oneof(
  fc.constantFrom(...flagNames),
  fc.tuple(fc.constantFrom(...flagNames), oddText).map(([flag, value]) => `${flag}=${value}`),
  fc.tuple(fc.constantFrom("-l", "--login"), loginModes).map(([flag, mode]) => `${flag}=${mode}`),
);
const argvTail = fc.array(fc.oneof({ weight: 3, arbitrary: flagToken }, { weight: 2, arbitrary: oddText }, { weight: 1, arbitrary: loginModes }), { maxLength: 10 }).map((tokens) =>
  // "--" would turn the pinned paths that follow into positionals; a generated path flag could
  // point anywhere on this machine.
  tokens.filter((token) => token !== "--" && !WRITES.test(token)),
);
const command = fc.constantFrom("get-token", "convert-kubeconfig", "remove-cache-dir", "help", "--help", "--version", "completion", "get-tokn", "");

const ENV_NAMES = [
  "AAD_LOGIN_METHOD", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET",
  "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST",
  "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLI_TIMEOUT", "AZURE_CLOUD_NAME", "ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_CLIENT_SECRET", "ARM_USE_OIDC",
  "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SYSTEM_ACCESSTOKEN", "SYSTEM_OIDCREQUESTURI", "AZURESUBSCRIPTION_CLIENT_ID",
  "AZURESUBSCRIPTION_TENANT_ID", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
  "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "DEFAULT_IDENTITY_CLIENT_ID", "BROWSER", "KUBERNETES_EXEC_INFO",
];
const environment = fc.dictionary(fc.constantFrom(...ENV_NAMES), fc.oneof(oddText, loginModes, fc.webUrl()), { maxKeys: 6 });

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "kubelogin-fuzz-argv-"));
});

/** The paths a run may write, pinned right after the command, where no generated flag can take them as its value. */
const pinned = (): string[] => ["--cache-dir", join(scratch, "cache"), "--kubeconfig", join(scratch, "kubeconfig")];

const runtime = (env: Record<string, string>) =>
  testRuntime({ now: NOW, env: { ...env, HOME: join(scratch, "home") }, fetch: refusingFetch, spawn: missingProgram });

describe("generated input never crashes kubelogin", () => {
  test("argv and environment", async () => {
    await fc.assert(
      fc.asyncProperty(command, argvTail, environment, async (cmd, tail, env) => {
        const argv = cmd === "" ? tail : [cmd, ...pinned(), ...tail];
        await runChecked(argv, runtime(env), cmd === "get-token" ? "exec-credential-or-empty" : "any");
      }),
      { numRuns: RUNS },
    );
  });

  test("get-token -l spn with every exec info kubectl could (not) send", async () => {
    const apiVersion = fc.constantFrom("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1", "client.authentication.k8s.io/v1alpha1", "", "v1");
    const execInfo = fc.oneof(
      fc.record(
        {
          kind: fc.constantFrom("ExecCredential", "Config", ""),
          apiVersion,
          spec: fc.record({ interactive: fc.oneof(fc.boolean(), fc.string(), fc.constant(null)), cluster: fc.oneof(fc.object(), fc.constant(null), fc.string()) }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ).map((value) => JSON.stringify(value)),
      fc.json(),
      oddText,
      fc.string({ unit: "binary", maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(execInfo, async (info) => {
        const argv = ["get-token", ...pinned(), "-l", "spn", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--client-id", "c", "--tenant-id", "t", "--client-secret", "s3cret-value"];
        await runChecked(argv, runtime({ KUBERNETES_EXEC_INFO: info }), "exec-credential-or-empty");
      }),
      { numRuns: RUNS },
    );
  });
});
