// npm run demo: the flow the AKS documentation walks users through, on the bundled local stack.
// A fake Entra ID, a fake Kubernetes API server (a CA made just now) and a fake `az` run in this
// process or next to it; real kubectl runs our built kubelogin. Each step is printed as the user
// would type it, with its output and what it cost: requests that reached Entra, runs of `az`.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { installFakeCli } from "../test/fakes/fake-cli.js";
import { AKS_CLIENT_ID, aksClusterYaml, aksDevicecodeUsersYaml } from "../test/fixtures/kubeconfigs.js";
import { kubectlBinary } from "../test/support/kubectl.js";
import { SERVER_ID, startLocalStack, type ProcessResult } from "../test/support/local-stack.js";
import { createTestPki } from "../test/support/pki.js";

const KUBECTL_VERSION = "1.33";
const USER = { username: "alice@contoso.example", password: "not-used-by-device-code-1" };

const say = (text = ""): void => void process.stdout.write(`${text}\n`);
const indent = (text: string): string =>
  text.trimEnd() === "" ? "" : `${text.trimEnd().split("\n").map((line) => `    ${line}`).join("\n")}\n`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

const problems: string[] = [];
function expectThat(ok: boolean, what: string): void {
  if (!ok) problems.push(what);
}

/** Runs a command with its output streamed to `onStderr` as it comes (kubectl shows the sign-in prompt while it waits). */
function runStreaming(file: string, args: readonly string[], env: Record<string, string>, onStderr: (chunk: string) => void = () => {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(file, [...args], { env, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      onStderr(stderr);
    });
    child.on("error", (error) => resolve({ code: 127, stdout, stderr: `${stderr}${error.message}\n` }));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const pkiDir = await mkdtemp(join(tmpdir(), "kubelogin-demo-pki-"));
const stack = await startLocalStack(await createTestPki(pkiDir));
try {
  const { entra, api, home, tenantId } = stack;
  entra.users.addPublicClient(AKS_CLIENT_ID);
  entra.users.addUser(USER);
  // The code stays pending until the demo enters it, as a person does in the browser.
  entra.users.deviceCode = { user: USER.username, slowDownPolls: 0, pendingPolls: 0, outcome: "browser", interval: 1 };
  const az = await installFakeCli("az", home, {
    kind: "entra",
    authorityHost: entra.url,
    credentials: { [stack.certApp.clientId]: { certificatePem: stack.certApp.certificate.certPem, privateKeyPem: stack.certApp.certificate.keyPkcs8Pem } },
  });

  // The user's shell: HOME, PATH (kubelogin, az, kubectl) and whatever they export.
  const exported: Record<string, string> = {};
  const shellEnv = (): Record<string, string> =>
    stack.env({ PATH: `${stack.publicCloudBinDir}:${az.binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, ...exported });
  const acceptedIdentity = (): string => {
    const token = api.acceptedTokens.at(-1);
    if (token === undefined) return "nobody";
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { upn?: string; appid?: string };
    return claims.upn ?? `app ${claims.appid}`;
  };

  say("Local stack (nothing here talks to Azure):");
  say(`  fake Entra ID     ${entra.url}  (tenant ${tenantId}, user ${USER.username})`);
  say(`  fake API server   ${api.url}  (accepts only JWTs fake Entra signed for ${SERVER_ID})`);
  say(`  kubectl           ${kubectlBinary(KUBECTL_VERSION)}`);
  say(`  kubelogin         this checkout's dist/main.js, sent to fake Entra with --authority-host (the kubeconfig stays as Azure writes it)`);
  say(`  az                a fake az that counts its runs and signs in at fake Entra`);
  say(`  HOME              ${home}`);

  /** One `$ kubectl get nodes`, with what it cost. */
  async function kubectlGetNodes(expected: { cached: boolean; azRuns: number; identity: string }, approveDeviceCode = false): Promise<void> {
    say(`\n$ kubectl get nodes`);
    const entraBefore = entra.requests.length;
    const azBefore = (await az.runs()).length;
    const started = performance.now();
    let approved = false;
    const result = await runStreaming(kubectlBinary(KUBECTL_VERSION), ["get", "nodes"], shellEnv(), (stderr) => {
      const code = /enter the code (\S+) to authenticate/.exec(stderr)?.[1];
      if (!approveDeviceCode || approved || code === undefined) return;
      approved = true;
      process.stdout.write(indent(stderr));
      say(`  # Following the sign-in instructions: the demo opens https://microsoft.com/devicelogin (fake Entra's`);
      say(`  # controller), enters ${code} and signs in as ${USER.username}, as you would in the browser.`);
      expectThat(entra.users.approve(code), `fake Entra knew no pending code ${code}`);
    });
    const took = Math.round(performance.now() - started);
    process.stdout.write(indent(approved ? result.stderr.slice(result.stderr.indexOf("\n") + 1) : result.stderr));
    process.stdout.write(indent(result.stdout));
    const entraRequests = entra.requests.length - entraBefore;
    const azRuns = (await az.runs()).length - azBefore;
    const azTotal = (await az.runs()).length;
    const identity = acceptedIdentity();
    say(`  → exit ${result.code} in ${took} ms · ${plural(entraRequests, "request")} reached Entra · az ran ${plural(azRuns, "time")} (${azTotal} in total) · API server saw ${identity}`);
    expectThat(result.code === 0 && /\bnode-1\s+Ready\b/.test(result.stdout), `kubectl get nodes failed (exit ${result.code}): ${result.stderr.trim()}`);
    if (approveDeviceCode) expectThat(approved, "kubectl showed no device-code sign-in message");
    else expectThat(!/To sign in/.test(result.stderr), "kubectl asked to sign in again");
    expectThat(expected.cached === (entraRequests === 0), `expected ${expected.cached ? "no request" : "a sign-in"} at Entra, saw ${plural(entraRequests, "request")}`);
    expectThat(azRuns === expected.azRuns, `expected az to run ${plural(expected.azRuns, "time")}, it ran ${azRuns}`);
    expectThat(identity === expected.identity, `expected the API server to see ${expected.identity}, it saw ${identity}`);
  }

  async function kubelogin(args: readonly string[]): Promise<void> {
    say(`\n$ kubelogin ${args.join(" ")}`);
    const result = await runStreaming(join(stack.publicCloudBinDir, "kubelogin"), args, shellEnv());
    process.stdout.write(indent(result.stdout + result.stderr));
    say(`  → exit ${result.code}`);
    expectThat(result.code === 0, `kubelogin ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }

  async function showExec(kubeconfig: string): Promise<string> {
    const text = await readFile(kubeconfig, "utf8");
    const doc = load(text) as { users: { user: { exec: { command: string; args: string[] } } }[] };
    const { command, args } = doc.users[0]!.user.exec;
    say(`  ${kubeconfig} now runs: ${command} ${args.join(" ")}`);
    return text;
  }

  async function getCredentials(kubeconfig: string, flags: string): Promise<void> {
    say(`\n$ az aks get-credentials --resource-group rg --name aks${flags}`);
    await mkdir(join(kubeconfig, ".."), { recursive: true });
    await writeFile(kubeconfig, aksClusterYaml({ server: api.url, caData: api.caData }) + aksDevicecodeUsersYaml(tenantId), { mode: 0o600 });
    say(indent(`Merged "aks" as current context in ${kubeconfig}`).trimEnd());
    say(`  # (the demo writes what az aks get-credentials writes for an Entra ID cluster, server = the fake API server)`);
    await showExec(kubeconfig);
  }

  say("\n### A developer: the kubeconfig from az aks get-credentials (devicecode)");
  const kubeconfig = join(home, ".kube", "config");
  await getCredentials(kubeconfig, "");
  await kubectlGetNodes({ cached: false, azRuns: 0, identity: USER.username }, true);
  await kubectlGetNodes({ cached: true, azRuns: 0, identity: USER.username });

  say("\n### The same developer, already signed in to the Azure CLI: convert to azurecli");
  await mkdir(join(home, ".azure"), { recursive: true });
  await writeFile(
    join(home, ".azure", "azureProfile.json"),
    JSON.stringify({
      installationId: "demo",
      subscriptions: [
        { id: "00000000-0000-0000-0000-00000000beef", name: "Demo", state: "Enabled", user: { name: stack.certApp.clientId, type: "servicePrincipal" }, isDefault: true, tenantId, environmentName: "AzureCloud" },
      ],
    }),
  );
  say(`  # az is signed in: ~/.azure/azureProfile.json names service principal ${stack.certApp.clientId} (as az login --service-principal leaves it)`);
  await kubelogin(["convert-kubeconfig", "-l", "azurecli"]);
  await showExec(kubeconfig);
  await kubectlGetNodes({ cached: false, azRuns: 1, identity: `app ${stack.certApp.clientId}` });
  await kubectlGetNodes({ cached: true, azRuns: 0, identity: `app ${stack.certApp.clientId}` });
  say("  # az ran once; kubelogin serves its token from the cache until it expires or az's identity changes.");

  say("\n### CI: a service principal from environment variables, convert to spn");
  const ciKubeconfig = join(home, "ci", "kubeconfig");
  await getCredentials(ciKubeconfig, ` --file ${ciKubeconfig}`);
  say(`\n$ export KUBECONFIG=${ciKubeconfig}`);
  say(`$ export AAD_SERVICE_PRINCIPAL_CLIENT_ID=${stack.secretApp.clientId}`);
  say(`$ export AAD_SERVICE_PRINCIPAL_CLIENT_SECRET='***'   # the pipeline's secret variable`);
  exported.KUBECONFIG = ciKubeconfig;
  exported.AAD_SERVICE_PRINCIPAL_CLIENT_ID = stack.secretApp.clientId;
  exported.AAD_SERVICE_PRINCIPAL_CLIENT_SECRET = stack.secretApp.secret;
  await kubelogin(["convert-kubeconfig", "-l", "spn"]);
  const converted = await showExec(ciKubeconfig);
  expectThat(!converted.includes(stack.secretApp.secret), "the converted kubeconfig holds the secret");
  await kubectlGetNodes({ cached: false, azRuns: 0, identity: `app ${stack.secretApp.clientId}` });
  await kubectlGetNodes({ cached: true, azRuns: 0, identity: `app ${stack.secretApp.clientId}` });

  const accepted = api.requests.filter((r) => r.authorized).length;
  say(`\nThe API server accepted ${accepted} requests, each with a JWT it verified (signature, audience, expiry).`);
  if (problems.length === 0) {
    say("Demo OK.");
  } else {
    say("Demo FAILED:");
    for (const problem of problems) say(`  - ${problem}`);
    process.exitCode = 1;
  }
} catch (error) {
  say(`Demo FAILED: ${error instanceof Error ? error.stack : String(error)}`);
  process.exitCode = 1;
} finally {
  await stack.close();
  await rm(pkiDir, { recursive: true, force: true });
}
