// Service Fabric's managed identity token service as an application on a cluster node sees it:
// HTTPS with a self-signed certificate whose SHA-1 thumbprint the cluster publishes in
// IDENTITY_SERVER_THUMBPRINT, GET <IDENTITY_ENDPOINT>?api-version=2019-07-01-preview&resource=...
// with the `Secret` header (IDENTITY_HEADER). Tokens come from fake Entra (or any issuer). Every
// request is recorded; faults (a status with headers, a dropped connection, no answer at all) can
// be queued for the next requests.
import { X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { SERVICE_FABRIC_401_SECRET_HEADER_NOT_FOUND } from "../fixtures/recorded-responses.js";
import { createClientCertificate } from "../support/pki.js";
import { readRequest, type HttpRequestRecord } from "./http-fake.js";

export type ServiceFabricFault = { status: number; headers?: Record<string, string>; body?: unknown } | "reset" | "hang";

export interface FakeServiceFabricOptions {
  issue(resource: string): { accessToken: string; expiresOn: number };
  /** The secret the cluster puts in IDENTITY_HEADER. */
  identityHeader?: string;
}

export interface FakeServiceFabric {
  port: number;
  /** IDENTITY_ENDPOINT on loopback; `endpointAt(name)` for a name only a test proxy resolves. */
  endpoint: string;
  endpointAt(hostname: string): string;
  identityHeader: string;
  /** IDENTITY_SERVER_THUMBPRINT: the SHA-1 of the certificate it presents, upper-case hex. */
  thumbprint: string;
  requests: HttpRequestRecord[];
  injectFaults(faults: ServiceFabricFault[]): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export const SERVICE_FABRIC_PATH = "/metadata/identity/oauth2/token";

export async function startFakeServiceFabric(options: FakeServiceFabricOptions): Promise<FakeServiceFabric> {
  const identityHeader = options.identityHeader ?? "fake-service-fabric-secret";
  const certificate = createClientCertificate("Service Fabric managed identity token service");
  const thumbprint = new X509Certificate(certificate.certPem).fingerprint.replace(/:/g, "").toUpperCase();
  const requests: HttpRequestRecord[] = [];
  const faults: ServiceFabricFault[] = [];

  const server: Server = createServer({ cert: certificate.certPem, key: certificate.keyPkcs8Pem }, (incoming, response) => {
    void readRequest(incoming).then((record) => {
      requests.push(record);
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
        response.end(JSON.stringify(body));
      };
      const fault = faults.shift();
      if (fault === "reset") return void incoming.socket.destroy();
      if (fault === "hang") return;
      if (fault !== undefined) return reply(fault.status, fault.body ?? { error: { code: "ServiceUnavailable", message: "The token service is busy" } }, fault.headers);
      if (record.path !== SERVICE_FABRIC_PATH || record.method !== "GET") return reply(404, { error: { code: "NotFound", message: `no route for ${record.method} ${record.path}` } });
      if (record.headers.secret !== identityHeader) return reply(SERVICE_FABRIC_401_SECRET_HEADER_NOT_FOUND.status, JSON.parse(SERVICE_FABRIC_401_SECRET_HEADER_NOT_FOUND.body));
      if (record.query["api-version"] !== "2019-07-01-preview" || !record.query.resource) {
        return reply(400, { error: { code: "InvalidParameter", message: "api-version and resource are required" } });
      }
      const { accessToken, expiresOn } = options.issue(record.query.resource);
      reply(200, { token_type: "Bearer", access_token: accessToken, expires_on: expiresOn, resource: record.query.resource });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpointAt = (hostname: string): string => `https://${hostname}:${port}${SERVICE_FABRIC_PATH}`;
  return {
    port,
    endpoint: endpointAt("127.0.0.1"),
    endpointAt,
    identityHeader,
    thumbprint,
    requests,
    injectFaults: (more) => void faults.push(...more),
    clearFaults: () => void (faults.length = 0),
    close: async () => {
      faults.length = 0;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
