// Network failures (issue 12, item 2), in every mode that makes requests: a refused connection, a
// name that does not resolve, an untrusted certificate and a certificate for another host each end
// in one `Error:` line naming the host, then a `hint:` with the way out. Real sockets, real TLS.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { closeServer } from "../fakes/fake-entra.js";
import { createTestPki, loadTestPki } from "../support/pki.js";
import { refusingPort, type RefusingPort } from "../support/refusing-port.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "5b1c8f07-5c43-4a5e-b0b4-8c8a6a0d6e21";

let dir: string;
let refusing: RefusingPort;
let untrusted: Server;
let mismatched: Server;
const origins: Record<string, string> = {};

async function listen(server: Server, address: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  return `https://${address}:${(server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-neterr-"));
  refusing = await refusingPort();
  // A CA nobody trusts (not in NODE_EXTRA_CA_CERTS): what a TLS-inspecting proxy looks like.
  const stranger = await createTestPki(join(dir, "stranger-pki"));
  untrusted = createServer({ cert: stranger.serverCertPem, key: stranger.serverKeyPem }, (_req, res) => res.end("{}"));
  // The trusted certificate (127.0.0.1, localhost) served on another loopback address.
  const trusted = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
  mismatched = createServer({ cert: trusted.serverCertPem, key: trusted.serverKeyPem }, (_req, res) => res.end("{}"));
  origins.refused = `https://127.0.0.1:${refusing.port}`;
  origins.dns = "https://login.kubelogin.invalid";
  origins.untrusted = await listen(untrusted, "127.0.0.1");
  origins.mismatch = await listen(mismatched, "127.0.0.2");
});
afterAll(async () => {
  await Promise.all([refusing.close(), closeServer(untrusted), closeServer(mismatched)]);
  await rm(dir, { recursive: true, force: true });
});

const faults = [
  ["refused", /^ECONNREFUSED$/, /^hint: nothing accepts connections at 127\.0\.0\.1:\d+; (check --authority-host|check the managed identity|the runner must reach)/],
  ["dns", /^(ENOTFOUND|EAI_AGAIN)$/, /^hint: login\.kubelogin\.invalid does not resolve; check the host in --authority-host .*HTTPS_PROXY/],
  // The stranger CA has the trusted one's name, so OpenSSL may try that one and fail the signature.
  ["untrusted", /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE)$/, /^hint: 127\.0\.0\.1's TLS certificate is not trusted; .*SSL_CERT_FILE or NODE_EXTRA_CA_CERTS/],
  ["mismatch", /^ERR_TLS_CERT_ALTNAME_INVALID$/, /^hint: the TLS certificate presented is not issued for 127\.0\.0\.2; .*SSL_CERT_FILE or NODE_EXTRA_CA_CERTS/],
] as const;

type Mode = { name: string; service: string; prefix: string; argv: (origin: string) => string[]; env: (origin: string) => Record<string, string> };
const modes: Mode[] = [
  {
    name: "spn (MSAL)",
    service: "the identity provider",
    prefix: "failed to get token: ",
    argv: (origin) => ["-l", "spn", "--client-id", CLIENT, "--tenant-id", TENANT, "--authority-host", `${origin}/`],
    env: () => ({ AZURE_CLIENT_SECRET: "a-secret-value" }),
  },
  {
    name: "spn --legacy (ADAL v1)",
    service: "the identity provider",
    prefix: "failed to get token: ",
    argv: (origin) => ["-l", "spn", "--legacy", "--client-id", CLIENT, "--tenant-id", TENANT, "--authority-host", `${origin}/`],
    env: () => ({ AZURE_CLIENT_SECRET: "a-secret-value" }),
  },
  {
    name: "msi (App Service)",
    service: "the appService managed identity endpoint",
    prefix: "failed to get token: ",
    argv: () => ["-l", "msi"],
    env: (origin) => ({ IDENTITY_ENDPOINT: `${origin}/msi/token`, IDENTITY_HEADER: "header-value" }),
  },
  {
    name: "workloadidentity (GitHub Actions)",
    service: "the GitHub Actions ID token endpoint",
    prefix: "failed to get token: github actions ID token request failed: ",
    argv: () => ["-l", "workloadidentity", "--client-id", CLIENT, "--tenant-id", TENANT],
    env: (origin) => ({ ACTIONS_ID_TOKEN_REQUEST_URL: `${origin}/idtoken?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "gh-token" }),
  },
];

describe.each(modes)("$name", (mode) => {
  test.each(faults)("%s: one Error line naming the host, then the way out", async (fault, code, hint) => {
    const origin = origins[fault]!;
    const rt = testRuntime({ env: mode.env(origin), now: Date.now() });
    const argv = ["get-token", "--server-id", SERVER_ID, "--cache-dir", await mkdtemp(join(dir, "cache-")), ...mode.argv(origin)];
    expect(await run(argv, rt)).toBe(1);
    const lines = rt.stderr.text().trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    const error = lines[0]!;
    const start = `Error: ${mode.prefix}could not reach ${mode.service} at ${origin}: `;
    expect(error.slice(0, start.length)).toBe(start);
    expect(error.slice(start.length)).toMatch(code);
    expect(lines[1]).toMatch(hint);
  });
});
