import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, get, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPki, type TestPki } from "./pki.js";

let dir: string;
let pki: TestPki;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-pki-"));
  pki = await createTestPki(join(dir, "nested", "pki"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function getBody(url: string, ca: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, ca === undefined ? {} : { ca }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

describe("createTestPki", () => {
  it("writes the CA and server files it returns", async () => {
    expect(pki.caCertPath).toBe(join(pki.dir, "ca.pem"));
    expect(await readFile(pki.caCertPath, "utf8")).toBe(pki.caCertPem);
    expect(await readFile(join(pki.dir, "server.pem"), "utf8")).toBe(pki.serverCertPem);
    expect(await readFile(join(pki.dir, "server-key.pem"), "utf8")).toBe(pki.serverKeyPem);
  });

  it("issues a server certificate for 127.0.0.1 and localhost under its CA", () => {
    const ca = new X509Certificate(pki.caCertPem);
    const server = new X509Certificate(pki.serverCertPem);

    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.keyUsage).toContain("1.3.6.1.5.5.7.3.1");
  });

  describe("serving HTTPS", () => {
    let server: Server;
    let url: string;

    beforeAll(async () => {
      server = createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (_request, response) => {
        response.end("hello over TLS");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });

    afterAll(async () => {
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    });

    it("is trusted by a client given the CA", async () => {
      expect(await getBody(url, pki.caCertPem)).toBe("hello over TLS");
    });

    it("is not trusted by a client without the CA", async () => {
      // The run-wide CA in NODE_EXTRA_CA_CERTS has the same name, so OpenSSL may report a signature
      // failure instead of an unknown issuer; either way the certificate is refused.
      await expect(getBody(url, undefined)).rejects.toThrow(/certificate/);
    });
  });
});
