// Interactive login end to end: real kubectl → our built kubelogin → $BROWSER → real headless
// Chromium (Debian's chromium) → fake Entra's authorization endpoint (form_post) → msal-node's
// loopback listener → code grant with PKCE → fake API server. Also: no usable browser (the URL on
// stderr, visited by the test), and 8 parallel cold calls opening one browser.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { chromiumAvailability, headlessChromium, visitSignInUrl, type HeadlessChromium } from "../support/browser.js";
import { KUBELOGIN_BIN, SERVER_ID, startLocalStack, type LocalStack, type ProcessResult } from "../support/local-stack.js";
import { loadTestPki } from "../support/pki.js";

const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const USER = "carol@contoso.example";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack(await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!));
  stack.entra.authCode.addPublicClient(CLIENT);
  stack.entra.authCode.user = USER;
});
afterAll(async () => {
  await stack.close();
});

let cacheCounter = 0;
let cacheDir: string;
beforeEach(() => {
  cacheDir = join(stack.home, `interactive-cache-${++cacheCounter}`);
});

const interactiveArgs = (): string[] => [
  "get-token", "--login", "interactive", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", stack.tenantId,
  "--authority-host", stack.entra.url, "--cache-dir", cacheDir,
];
const tokenOf = (result: ProcessResult): string => (JSON.parse(result.stdout) as { status: { token: string } }).status.token;

const chromium = chromiumAvailability();
describe.skipIf(!chromium.run)(`real headless Chromium through $BROWSER${chromium.run ? "" : ` (skipped: ${chromium.skipReason})`}`, () => {
  let browser: HeadlessChromium;
  beforeEach(async () => {
    browser = await headlessChromium();
    return () => browser.close();
  });

  test("kubectl 1.33 signs in through Chromium once; the next kubectl call opens no browser", async () => {
    const kubeconfig = await stack.writeKubeconfig(`interactive-${cacheCounter}`, {
      apiVersion: "client.authentication.k8s.io/v1",
      interactiveMode: "IfAvailable",
      args: interactiveArgs(),
    });
    const env = { BROWSER: browser.command };
    const first = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^NAME\s+STATUS.*\nnode-1\s+Ready/);
    expect(first.stderr).toContain("A browser should open for the sign-in.");
    expect(await browser.launches()).toBe(1);
    expect(stack.api.acceptedTokens.at(-1)).toBe(stack.entra.issuedTokens.at(-1));

    const second = await stack.kubectl("1.33", ["--kubeconfig", kubeconfig, "get", "nodes"], { env });
    expect(second.code).toBe(0);
    expect(second.stderr).toBe("");
    expect(await browser.launches()).toBe(1);
  });

  test("8 parallel cold get-token calls open one browser and print one token", async () => {
    const authorizes = stack.entra.authCode.authorizeRequests.length;
    const runs = await Promise.all(Array.from({ length: 8 }, () => stack.kubelogin(interactiveArgs(), { env: { BROWSER: browser.command } })));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(new Set(runs.map(tokenOf)).size).toBe(1);
    expect(await browser.launches()).toBe(1);
    expect(stack.entra.authCode.authorizeRequests.length - authorizes).toBe(1);
  });
});

test("with no usable browser (BROWSER=/nonexistent) the URL is on stderr and get-token completes once it is visited", async () => {
  const child = spawn(process.execPath, [KUBELOGIN_BIN, ...interactiveArgs()], { env: stack.env({ BROWSER: "/nonexistent" }) });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const url = await new Promise<string>((resolve) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /^https:\/\/\S+\/oauth2\/v2\.0\/authorize\?\S+$/m.exec(stderr)?.[0];
      if (found) resolve(found);
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(stderr).toContain("Could not open a browser (spawn /nonexistent ENOENT). To sign in, open this URL in a browser on this machine:\n");
  expect(await visitSignInUrl(url)).toContain("You are signed in to kubelogin");
  expect(await exited).toBe(0);
  expect(tokenOf({ code: 0, stdout, stderr })).toBe(stack.entra.issuedTokens.at(-1));
});
