// The bundled local stack: fake Entra ID and a fake Kubernetes API server over HTTPS, service
// principals (secret, PEM and PFX certificates) registered in it, a HOME for kubectl, and a
// `kubelogin` on PATH that is our built binary. Used by the e2e tests and by `npm run demo`.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeApiServer, type FakeApiServer } from "../fakes/fake-apiserver.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { kubectlBinary } from "./kubectl.js";
import { createClientCertificate, toPfx, type ClientCertificate, type TestPki } from "./pki.js";

export const KUBELOGIN_BIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
export const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
/** The fake API server's ARM id, as an Azure Arc cluster checks a PoP token's u claim. */
export const ARC_CLUSTER_ID = "/subscriptions/00000000-0000-0000-0000-0000000000bb/resourceGroups/arc/providers/Microsoft.Kubernetes/connectedClusters/arc-1";

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CertificateFiles {
  pkcs8Pem: string;
  pkcs1Pem: string;
  pfx: string;
  pfxPassword: string;
}

export interface LocalStack {
  readonly pki: TestPki;
  readonly entra: FakeEntra;
  readonly api: FakeApiServer;
  readonly tenantId: string;
  readonly secretApp: { clientId: string; secret: string };
  /** Mid-rotation: both secrets are valid. */
  readonly rotatingApp: { clientId: string; oldSecret: string; newSecret: string };
  readonly certApp: { clientId: string; certificate: ClientCertificate; files: CertificateFiles };
  /** An app that trusts a pod's service account token (workload identity): mint it with mintFederatedToken({ issuer, subject }). */
  readonly workloadApp: { clientId: string; issuer: string; subject: string };
  /** A temp HOME: kubectl's discovery cache and kubelogin's default cache dir live under it. */
  readonly home: string;
  /** Holds a `kubelogin` symlink to dist/main.js; put it first on PATH. */
  readonly binDir: string;
  /**
   * Holds a `kubelogin` for kubeconfigs that target the public cloud, as Azure writes them: our
   * build, with `--authority-host <fake Entra>` added to get-token, so the kubeconfig stays as
   * written. Put it first on PATH instead of binDir.
   */
  readonly publicCloudBinDir: string;
  /** The environment a kubectl (and so the plugin) runs with; `extra` is added on top. */
  env(extra?: Record<string, string>): Record<string, string>;
  writeKubeconfig(name: string, exec: ExecStanza): Promise<string>;
  kubectl(version: string, args: readonly string[], options?: { env?: Record<string, string> }): Promise<ProcessResult>;
  kubelogin(args: readonly string[], options?: { env?: Record<string, string> }): Promise<ProcessResult>;
  close(): Promise<void>;
}

export interface ExecStanza {
  apiVersion?: string;
  args: readonly string[];
  env?: readonly { name: string; value: string }[] | null;
  interactiveMode?: string;
}

/** Async on purpose: the fakes live in this process, and a synchronous spawn would block them. */
export function runProcess(file: string, args: readonly string[], env: Record<string, string>, cwd?: string): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env, cwd, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

export async function startLocalStack(pki: TestPki): Promise<LocalStack> {
  const root = await mkdtemp(join(tmpdir(), "kubelogin-stack-"));
  const home = join(root, "home");
  const binDir = join(root, "bin");
  await mkdir(home, { recursive: true });
  await mkdir(binDir, { recursive: true });
  await symlink(KUBELOGIN_BIN, join(binDir, "kubelogin"));

  const tenantId = "00000000-0000-0000-0000-0000000000aa";
  const secretApp = { clientId: "11111111-1111-1111-1111-111111111111", secret: "s3cret-Value~with.special_chars" };
  const rotatingApp = { clientId: "33333333-3333-3333-3333-333333333333", oldSecret: "old-Rotated~secret.1", newSecret: "new-Rotated~secret.2" };
  const certificate = createClientCertificate("kubelogin-test");
  const files: CertificateFiles = {
    pkcs8Pem: join(root, "spn-pkcs8.pem"),
    pkcs1Pem: join(root, "spn-pkcs1.pem"),
    pfx: join(root, "spn.pfx"),
    pfxPassword: "pfx-Passw0rd",
  };
  await writeFile(files.pkcs8Pem, certificate.keyPkcs8Pem + certificate.certPem, { mode: 0o600 });
  await writeFile(files.pkcs1Pem, certificate.certPem + certificate.keyPkcs1Pem, { mode: 0o600 });
  await writeFile(files.pfx, toPfx(certificate, files.pfxPassword), { mode: 0o600 });
  const certApp = { clientId: "22222222-2222-2222-2222-222222222222", certificate, files };

  const workloadApp = { clientId: "44444444-4444-4444-8444-444444444444", issuer: "https://oidc.aks.example/tenant/cluster/", subject: "system:serviceaccount:default:workload" };

  const entra = await startFakeEntra({
    pki,
    tenants: [tenantId],
    apps: [
      { clientId: secretApp.clientId, secret: secretApp.secret },
      { clientId: rotatingApp.clientId, secret: rotatingApp.oldSecret, alsoValidSecrets: [rotatingApp.newSecret] },
      { clientId: certApp.clientId, certificatePem: certificate.certPem },
      { clientId: workloadApp.clientId, federated: [{ issuer: workloadApp.issuer, subject: workloadApp.subject }] },
    ],
  });
  const publicCloudBinDir = join(root, "public-cloud-bin");
  await mkdir(publicCloudBinDir);
  const node = `"${process.execPath}" "${KUBELOGIN_BIN}"`;
  await writeFile(
    join(publicCloudBinDir, "kubelogin"),
    `#!/bin/sh\nif [ "$1" = get-token ]; then exec ${node} "$@" --authority-host "${entra.url}"; fi\nexec ${node} "$@"\n`,
    { mode: 0o755 },
  );
  const api = await startFakeApiServer({ pki, audience: SERVER_ID, issuerPublicKeyPem: entra.publicKeyPem, serverMinor: "33", armId: ARC_CLUSTER_ID });

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: home,
    NODE_EXTRA_CA_CERTS: pki.caCertPath,
    // The file cache backend (see test/support/runtime.ts); test/e2e/keychain.test.ts drops it to test the default.
    KUBELOGIN_CACHE_BACKEND: "file",
    ...extra,
  });

  return {
    pki,
    entra,
    api,
    tenantId,
    secretApp,
    rotatingApp,
    certApp,
    workloadApp,
    home,
    binDir,
    publicCloudBinDir,
    env,
    async writeKubeconfig(name, exec) {
      const path = join(root, `${name}.kubeconfig`);
      const stanza = {
        apiVersion: exec.apiVersion ?? "client.authentication.k8s.io/v1beta1",
        command: "kubelogin",
        args: exec.args,
        env: exec.env ?? null,
        ...(exec.interactiveMode ? { interactiveMode: exec.interactiveMode } : {}),
      };
      const config = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "aks", cluster: { server: api.url, "certificate-authority-data": api.caData } }],
        contexts: [{ name: "aks", context: { cluster: "aks", user: "ci" } }],
        "current-context": "aks",
        users: [{ name: "ci", user: { exec: stanza } }],
      };
      // JSON is YAML: kubectl reads it as is.
      await writeFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
      return path;
    },
    kubectl(version, args, options = {}) {
      return runProcess(kubectlBinary(version), args, env(options.env));
    },
    kubelogin(args, options = {}) {
      return runProcess(process.execPath, [KUBELOGIN_BIN, ...args], env(options.env));
    },
    async close() {
      await Promise.all([entra.close(), api.close()]);
      await rm(root, { recursive: true, force: true });
    },
  };
}
