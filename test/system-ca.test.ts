// Which CAs a request trusts (src/system-ca.ts): Node's own, plus what Go's crypto/x509 reads, so a
// TLS-inspecting proxy's CA installed for the system (or named in SSL_CERT_FILE / SSL_CERT_DIR)
// works as it does for upstream kubelogin and kubectl. Real files, real TLS on loopback; the
// servers' CA is a fresh one, never the NODE_EXTRA_CA_CERTS this worker was started with.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { proxyAwareFetch } from "../src/runtime.js";
import { systemCertificates } from "../src/system-ca.js";
import { startFakeProxy, type FakeProxy } from "./fakes/fake-proxy.js";
import { createClientCertificate, createTestPki, loadTestPki, type TestPki } from "./support/pki.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-trust-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("systemCertificates reads what Go reads", () => {
  // As the reader hands them back: one PEM block, LF line ends.
  const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => createClientCertificate(`trust-${name}`).certPem.replace(/\r\n/g, "\n"));
  let root: string;
  let files: string[];
  let dirs: string[];
  beforeAll(async () => {
    root = join(dir, "system");
    await mkdir(join(root, "certs"), { recursive: true });
    await mkdir(join(root, "pki"), { recursive: true });
    await mkdir(join(root, "elsewhere"), { recursive: true });
    // Go's file list: the first that reads wins (the first here is missing, the third is not read).
    files = [join(root, "missing.crt"), join(root, "bundle-1.crt"), join(root, "bundle-2.crt")];
    await writeFile(files[1]!, `${a}${createClientCertificate("trust-key").keyPkcs8Pem}`);
    await writeFile(files[2]!, b!);
    // Go's directories: every file in each, a link to another directory included, a same-directory
    // link (OpenSSL's hash name) skipped as a second copy; anything not PEM is ignored.
    dirs = [join(root, "certs"), join(root, "pki")];
    await writeFile(join(root, "certs", "c.pem"), c!);
    await symlink("c.pem", join(root, "certs", "5d2f0a1b.0"));
    await writeFile(join(root, "elsewhere", "d.crt"), d!);
    await symlink(join(root, "elsewhere", "d.crt"), join(root, "pki", "d.pem"));
    await writeFile(join(root, "pki", "README"), "not a certificate\n");
    // A FIFO where a file was expected is skipped, not waited on.
    execFileSync("mkfifo", [join(root, "certs", "fifo.pem")]);
  });

  const read = (env: Record<string, string>, platform: NodeJS.Platform = "linux") =>
    systemCertificates({ env, platform, bundleFiles: files, bundleDirs: dirs });

  test("without SSL_CERT_FILE / SSL_CERT_DIR: the first bundle that reads, then every directory", () => {
    expect(read({}).sort()).toEqual([a, c, d].sort());
  });

  test("SSL_CERT_FILE replaces the bundle list only; the directories are still read", () => {
    expect(read({ SSL_CERT_FILE: files[2]! }).sort()).toEqual([b, c, d].sort());
    // A file that cannot be read adds nothing (Go's probe list is not tried instead).
    expect(read({ SSL_CERT_FILE: files[0]! }).sort()).toEqual([c, d].sort());
  });

  test("SSL_CERT_DIR replaces the directory list only, colon-separated, every directory read", () => {
    const other = join(root, "elsewhere");
    expect(read({ SSL_CERT_DIR: `${join(root, "nowhere")}:${other}` }).sort()).toEqual([a, d].sort());
    expect(read({ SSL_CERT_DIR: `${join(root, "certs")}::${other}` }).sort()).toEqual([a, c, d].sort());
  });

  test("on Windows and macOS, Go's Linux paths are not read; SSL_CERT_FILE and SSL_CERT_DIR are", () => {
    // Where the runtime exposes the OS store (Node 22.15+), it comes first: here, this machine's.
    const store = (tls as { getCACertificates?: (store: "system") => string[] }).getCACertificates?.("system") ?? [];
    for (const platform of ["win32", "darwin"] as const) {
      expect(read({}, platform)).toEqual(store);
      expect(read({ SSL_CERT_FILE: files[2]!, SSL_CERT_DIR: join(root, "elsewhere") }, platform).slice(store.length).sort()).toEqual([b, d].sort());
    }
  });
});

describe("every request trusts the system's CAs besides Node's own", () => {
  // What a TLS-inspecting proxy presents: a CA Node does not know.
  let inspecting: TestPki;
  let server: Server;
  let origin: string;
  let proxy: FakeProxy;
  beforeAll(async () => {
    // Named apart from the suite's own CA (trusted in this worker): TLS looks issuers up by name.
    inspecting = await createTestPki(join(dir, "inspecting-pki"), "kubelogin test TLS-inspecting proxy CA");
    server = createServer({ cert: inspecting.serverCertPem, key: inspecting.serverKeyPem }, (_req, res) => res.end("reached"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    proxy = await startFakeProxy({ hosts: { "entra.kubelogin.test": "127.0.0.1" } });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = async (env: Record<string, string>, url = `${origin}/`): Promise<string> => {
    try {
      const response = await proxyAwareFetch(env, "linux")(url);
      return await response.text();
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      return `failed: ${cause?.code ?? String(err)}`;
    }
  };

  test("a CA named by SSL_CERT_FILE", async () => {
    expect(await get({ SSL_CERT_FILE: inspecting.caCertPath })).toBe("reached");
  });

  test("a CA in a directory named by SSL_CERT_DIR", async () => {
    const certs = join(dir, "ssl-cert-dir");
    await mkdir(certs, { recursive: true });
    await writeFile(join(certs, "inspecting-ca.pem"), inspecting.caCertPem);
    expect(await get({ SSL_CERT_DIR: `${join(dir, "no-such-dir")}:${certs}` })).toBe("reached");
  });

  test("the target of a proxy's CONNECT tunnel", async () => {
    const port = new URL(origin).port;
    const before = proxy.count("entra.kubelogin.test");
    expect(await get({ SSL_CERT_FILE: inspecting.caCertPath, HTTPS_PROXY: proxy.url }, `https://entra.kubelogin.test:${port}/`)).toBe("reached");
    expect(proxy.count("entra.kubelogin.test") - before).toBe(1);
  });

  test("NODE_EXTRA_CA_CERTS stays trusted beside the system's CAs", async () => {
    const extra = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
    const extraServer = createServer({ cert: extra.serverCertPem, key: extra.serverKeyPem }, (_req, res) => res.end("reached"));
    await new Promise<void>((resolve) => extraServer.listen(0, "127.0.0.1", resolve));
    try {
      const url = `https://127.0.0.1:${(extraServer.address() as { port: number }).port}/`;
      expect(await get({ SSL_CERT_FILE: inspecting.caCertPath, NODE_EXTRA_CA_CERTS: extra.caCertPath }, url)).toBe("reached");
    } finally {
      await new Promise((resolve) => extraServer.close(resolve));
    }
  });

  test("a CA named nowhere is still refused", async () => {
    expect(await get({})).toMatch(/^failed: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE)$/);
  });
});
