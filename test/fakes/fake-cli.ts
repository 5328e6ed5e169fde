// Fake `az` and `azd` executables: a script in its own directory (put it first on PATH) that
// records every run (argv, working directory, the env it saw) and answers as the real CLI does,
// with what the test last told it: a fixed output, a failure, a hang, or, like the real CLIs, a
// token from (fake) Entra ID for whoever the CLI's config files say is signed in, so a test that
// edits azureProfile.json or azd's auth.json gets the other identity's token.
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type FakeCliProgram = "az" | "azd";

export interface FakeCliRun {
  pid: number;
  argv: string[];
  cwd: string;
  env: { AZURE_CONFIG_DIR?: string; AZD_CONFIG_DIR?: string; TZ?: string; HOME?: string };
}

export type FakeCliBehaviour =
  /** Prints this on stdout and exits 0. */
  | { kind: "print"; stdout: string }
  | { kind: "fail"; stderr: string; exitCode: number }
  /** Never answers (until killed). */
  | { kind: "hang" }
  /**
   * Signs in as the service principal the CLI's config names (az: the default subscription's user
   * in azureProfile.json; azd: auth.account.currentUser in auth.json) with the client-credentials
   * grant at `authorityHost` (with a secret, or a certificate-signed assertion, as
   * `az login --service-principal` does), and prints the token in the CLI's JSON shape.
   * `expiresOnOnly` leaves out az's `expires_on`, as az before 2.54 did.
   */
  | { kind: "entra"; authorityHost: string; credentials: Record<string, FakeCliCredential>; expiresOnOnly?: boolean };

export type FakeCliCredential = { secret: string } | { certificatePem: string; privateKeyPem: string };

export interface FakeCli {
  /** The directory holding the executable: put it first on PATH. */
  readonly binDir: string;
  runs(): Promise<FakeCliRun[]>;
  behave(behaviour: FakeCliBehaviour): Promise<void>;
}

export async function installFakeCli(program: FakeCliProgram, root: string, behaviour: FakeCliBehaviour): Promise<FakeCli> {
  const binDir = join(root, `fake-${program}-bin`);
  const stateDir = join(root, `fake-${program}-state`);
  await mkdir(binDir, { recursive: true });
  await mkdir(stateDir, { recursive: true });
  const runsFile = join(stateDir, "runs.jsonl");
  const behaviourFile = join(stateDir, "behaviour.json");
  await appendFile(runsFile, "");
  const behave = (next: FakeCliBehaviour): Promise<void> => writeFile(behaviourFile, JSON.stringify(next));
  await behave(behaviour);
  // An absolute interpreter, so the fake runs whatever PATH the test gives kubelogin.
  await writeFile(join(binDir, program), `#!${process.execPath}\n${script(program, runsFile, behaviourFile)}`, { mode: 0o755 });
  return {
    binDir,
    behave,
    async runs() {
      const text = await readFile(runsFile, "utf8");
      return text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as FakeCliRun);
    },
  };
}

// az's expiresOn is Python's str() of a naive local datetime, in the fake's own time zone (TZ).
function script(program: FakeCliProgram, runsFile: string, behaviourFile: string): string {
  return `"use strict";
const fs = require("node:fs");
const path = require("node:path");
const program = ${JSON.stringify(program)};
const argv = process.argv.slice(2);
const { AZURE_CONFIG_DIR, AZD_CONFIG_DIR, TZ, HOME } = process.env;
fs.appendFileSync(${JSON.stringify(runsFile)}, JSON.stringify({ pid: process.pid, argv, cwd: process.cwd(), env: { AZURE_CONFIG_DIR, AZD_CONFIG_DIR, TZ, HOME } }) + "\\n");
const behaviour = JSON.parse(fs.readFileSync(${JSON.stringify(behaviourFile)}, "utf8"));
const arg = (name) => { const i = argv.indexOf(name); return i < 0 ? undefined : argv[i + 1]; };
const fail = (stderr, code) => { process.stderr.write(stderr); process.exit(code); };
function pythonLocalTime(date) {
  const p = (n, width = 2) => String(n).padStart(width, "0");
  return date.getFullYear() + "-" + p(date.getMonth() + 1) + "-" + p(date.getDate()) + " " + p(date.getHours()) + ":" + p(date.getMinutes()) + ":" + p(date.getSeconds()) + "." + p(date.getMilliseconds() * 1000, 6);
}

function assertion(clientId, audience, credential) {
  const crypto = require("node:crypto");
  const b64 = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
  const thumbprint = crypto.createHash("sha256").update(new crypto.X509Certificate(credential.certificatePem).raw).digest("base64url");
  const now = Math.floor(Date.now() / 1000);
  const signed = b64({ alg: "RS256", typ: "JWT", "x5t#S256": thumbprint }) + "." + b64({ iss: clientId, sub: clientId, aud: audience, nbf: now, exp: now + 600, jti: crypto.randomUUID() });
  return signed + "." + crypto.sign("sha256", Buffer.from(signed), credential.privateKeyPem).toString("base64url");
}

async function fromEntra() {
  let clientId, tenantId;
  if (program === "az") {
    const dir = AZURE_CONFIG_DIR || path.join(HOME, ".azure");
    let profile;
    try { profile = JSON.parse(fs.readFileSync(path.join(dir, "azureProfile.json"), "utf8").replace(/^\\uFEFF/, "")); } catch { profile = { subscriptions: [] }; }
    const wanted = arg("--subscription");
    const sub = profile.subscriptions.find((s) => wanted === undefined ? s.isDefault : s.id === wanted || s.name === wanted);
    if (!sub) fail("ERROR: Please run 'az login' to setup account.\\n", 1);
    clientId = sub.user.name;
    tenantId = arg("--tenant") || sub.tenantId;
  } else {
    const dir = AZD_CONFIG_DIR || path.join(HOME, ".azd");
    let user;
    try { user = JSON.parse(fs.readFileSync(path.join(dir, "auth.json"), "utf8")).auth.account.currentUser; } catch {}
    if (!user) fail("ERROR: fetching token: not logged in, run \`azd auth login\` to login\\n", 1);
    clientId = user.clientId;
    tenantId = arg("--tenant-id") || user.tenantId;
  }
  const scope = program === "az" ? arg("--resource") + "/.default" : arg("--scope");
  const endpoint = behaviour.authorityHost + tenantId + "/oauth2/v2.0/token";
  const credential = behaviour.credentials[clientId] ?? { secret: "" };
  const form = new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, scope });
  if ("secret" in credential) form.set("client_secret", credential.secret);
  else {
    form.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    form.set("client_assertion", assertion(clientId, endpoint, credential));
  }
  const response = await fetch(endpoint, { method: "POST", body: form });
  const body = await response.json();
  if (!response.ok) fail("ERROR: " + body.error_description + "\\n", 1);
  const expires = new Date(Date.now() + body.expires_in * 1000);
  const out = program === "azd"
    ? { token: body.access_token, expiresOn: expires.toISOString().replace(/\\.\\d+Z$/, "Z") }
    : { accessToken: body.access_token, expiresOn: pythonLocalTime(expires), ...(behaviour.expiresOnOnly ? {} : { expires_on: Math.floor(expires.getTime() / 1000) }), subscription: "00000000-0000-0000-0000-00000000beef", tenant: tenantId, tokenType: "Bearer" };
  process.stdout.write(JSON.stringify(out, null, 2) + "\\n");
}

switch (behaviour.kind) {
  case "print": process.stdout.write(behaviour.stdout); break;
  case "fail": fail(behaviour.stderr, behaviour.exitCode); break;
  case "hang": setInterval(() => {}, 60000); break;
  case "entra": fromEntra().catch((err) => fail(String(err) + "\\n", 1)); break;
}
`;
}
