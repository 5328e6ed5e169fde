// npm run demo: the bundled local stack end to end. A fake Entra ID and a fake Kubernetes API
// server start on loopback with a CA made just now; real kubectl runs `get nodes` and
// `auth whoami` through `kubelogin get-token -l spn`; we print what happened.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki } from "../test/support/pki.js";
import { kubectlBinary } from "../test/support/kubectl.js";
import { SERVER_ID, startLocalStack } from "../test/support/local-stack.js";

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const indent = (text: string): string => text.trimEnd().split("\n").map((line) => `    ${line}`).join("\n");

const pkiDir = await mkdtemp(join(tmpdir(), "kubelogin-demo-pki-"));
const stack = await startLocalStack(await createTestPki(pkiDir));
try {
  say(`fake Entra ID        ${stack.entra.url}   (tenant ${stack.tenantId})`);
  say(`fake API server      ${stack.api.url}    (audience ${SERVER_ID})`);
  say(`trusted through      NODE_EXTRA_CA_CERTS=${stack.pki.caCertPath}`);
  say("");

  const kubeconfig = await stack.writeKubeconfig("demo", {
    args: [
      "get-token", "--login", "spn", "--server-id", SERVER_ID, "--client-id", stack.secretApp.clientId,
      "--tenant-id", stack.tenantId, "--environment", "AzurePublicCloud", "--authority-host", stack.entra.url,
    ],
  });
  say(`kubeconfig exec stanza: kubelogin get-token --login spn … (secret from AAD_SERVICE_PRINCIPAL_CLIENT_SECRET)`);
  const env = { AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: stack.secretApp.secret };
  const kubectlVersion = "1.33";
  const steps: [string, string[]][] = [
    ["kubectl get nodes", ["get", "nodes"]],
    ["kubectl auth whoami", ["auth", "whoami"]],
    ["kubectl get nodes (again)", ["get", "nodes"]],
  ];
  let failed = false;
  for (const [title, args] of steps) {
    const before = stack.entra.tokenRequests().length;
    const started = performance.now();
    const result = await stack.kubectl(kubectlVersion, ["--kubeconfig", kubeconfig, ...args], { env });
    const took = Math.round(performance.now() - started);
    const requests = stack.entra.tokenRequests().length - before;
    say(`\n$ ${title}   [${kubectlBinary(kubectlVersion)}, ${took} ms, exit ${result.code}]`);
    say(indent(result.stdout || result.stderr));
    say(`  → token requests to Entra: ${requests}${requests === 0 ? " (served from kubelogin's cache)" : ""}`);
    if (result.code !== 0) failed = true;
  }
  const accepted = stack.api.requests.filter((r) => r.authorized).length;
  say(`\nAPI server accepted ${accepted} requests with a JWT it verified (signature, audience, expiry).`);
  say(failed ? "\nDemo FAILED." : "\nDemo OK.");
  process.exitCode = failed ? 1 : 0;
} finally {
  await stack.close();
  await rm(pkiDir, { recursive: true, force: true });
}
