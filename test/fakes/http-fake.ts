// The small HTTP server the managed-identity and CI token fakes share: loopback, plain HTTP (as
// IMDS and App Service are), every request recorded with its headers before it is answered.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface HttpRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface HttpFake {
  /** "http://127.0.0.1:PORT" (no trailing slash). */
  origin: string;
  requests: HttpRequestRecord[];
  close(): Promise<void>;
}

/** A request as the fakes record it, once its body has arrived. */
export async function readRequest(incoming: IncomingMessage): Promise<HttpRequestRecord> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const url = new URL(incoming.url ?? "/", "http://fake.invalid");
  return {
    method: incoming.method ?? "",
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...incoming.headers },
    body: Buffer.concat(chunks).toString("utf8"),
  };
}

export async function startHttpFake(handle: (request: HttpRequestRecord) => HttpReply): Promise<HttpFake> {
  const requests: HttpRequestRecord[] = [];
  const server: Server = createServer((incoming: IncomingMessage, response) => {
    void readRequest(incoming).then((record) => {
      requests.push(record);
      const reply = handle(record);
      response.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", ...reply.headers });
      response.end(typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, requests, close: async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  } };
}
