// What every run must hold, whatever it was given (issue 12, item 7): exit 0 or 1, at most one
// `Error:` line (exactly one on failure), and stdout empty or, for get-token, one ExecCredential.
import { expect } from "vitest";
import { run } from "../../src/cli/run.js";
import type { Spawn } from "../../src/runtime.js";
import type { TestRuntime } from "../support/runtime.js";

/** No network for generated input: as if every host refused (a generated -l msi must not reach 169.254.169.254). */
export const refusingFetch: typeof fetch = async (input) => {
  throw new TypeError("fetch failed", { cause: Object.assign(new Error(`connect ECONNREFUSED ${String(input)}`), { code: "ECONNREFUSED" }) });
};

/** No programs either: as if az and azd were not installed. */
export const missingProgram: Spawn = async (file) => {
  throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: "ENOENT", errno: -2, syscall: `spawn ${file}` });
};

export function expectExecCredential(stdout: string): void {
  expect(stdout.endsWith("\n"), stdout).toBe(true);
  const credential = JSON.parse(stdout) as { kind?: unknown; apiVersion?: unknown; status?: { token?: unknown } };
  expect(credential.kind).toBe("ExecCredential");
  expect(credential.apiVersion).toMatch(/^client\.authentication\.k8s\.io\/v1(beta1)?$/);
  expect(typeof credential.status?.token).toBe("string");
}

/** Runs kubelogin in-process and checks the invariants; a run that does not settle within 20 s fails as hung. */
export async function runChecked(argv: readonly string[], rt: TestRuntime, stdoutMust: "exec-credential-or-empty" | "empty" | "any"): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung: ${JSON.stringify(argv)}`)), 20_000);
  });
  const code = await Promise.race([run(argv, rt), hung]).finally(() => clearTimeout(timer));
  const stderr = rt.stderr.text();
  const context = `argv ${JSON.stringify(argv)} env ${JSON.stringify(rt.env)}\nstderr: ${stderr}\nstdout: ${rt.stdout.text().slice(0, 300)}`;
  expect([0, 1], context).toContain(code);
  const errorLines = stderr.split("\n").filter((line) => line.startsWith("Error:"));
  expect(errorLines.length, context).toBe(code === 1 ? 1 : 0);
  const stdout = rt.stdout.text();
  if (stdoutMust === "empty" || (stdoutMust === "exec-credential-or-empty" && code === 1)) expect(stdout, context).toBe("");
  else if (stdoutMust === "exec-credential-or-empty") expectExecCredential(stdout);
  return code;
}
