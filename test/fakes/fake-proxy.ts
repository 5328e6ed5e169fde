// A real forwarding proxy on loopback, as a corporate network has one: CONNECT tunnels for https
// and absolute-URI forwarding for http. It counts what passes through. `hosts` is its own name
// resolution (a name only the proxy knows, as names behind a corporate proxy are), so a request
// that succeeds for such a name can only have gone through it.
import { connect, type AddressInfo, type Socket } from "node:net";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface FakeProxy {
  /** "http://127.0.0.1:PORT": the value for HTTPS_PROXY / HTTP_PROXY. */
  url: string;
  /** Every CONNECT target ("host:port") and forwarded URL, in order. */
  seen: string[];
  /** How many tunnels or forwards went to this host (name as asked, without port). */
  count(hostname: string): number;
  close(): Promise<void>;
}

export async function startFakeProxy(options: { hosts?: Record<string, string> } = {}): Promise<FakeProxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const resolve = (hostname: string): string => options.hosts?.[hostname.toLowerCase()] ?? hostname;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Plain http: the request line carries the absolute URL.
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end("absolute URL expected");
      return;
    }
    seen.push(target.toString());
    const upstream = httpRequest(
      { host: resolve(target.hostname), port: target.port || 80, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (err) => res.writeHead(502).end(String(err)));
    req.pipe(upstream);
  });

  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const [hostname = "", port = "443"] = (req.url ?? "").split(/:(?=\d+$)/);
    seen.push(`${hostname}:${port}`);
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    const upstream = connect(Number(port), resolve(hostname), () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    client.on("error", () => upstream.destroy());
  });

  await new Promise<void>((ready, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ready());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    count: (hostname) => seen.filter((entry) => new URL(entry.includes("://") ? entry : `https://${entry}`).hostname === hostname.toLowerCase()).length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
