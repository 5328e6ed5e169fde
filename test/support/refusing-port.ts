// A loopback port that refuses connections (ECONNREFUSED) for as long as the test needs it.
// Closing a server and reusing its port races with anything else that binds a free port in
// between. Here the port is the local end of a connection we keep open: bound, never listening,
// and no one can listen on it (a bind conflicts with a socket that lacks SO_REUSEADDR, and
// client sockets never set it).
import { connect, createServer, type Socket } from "node:net";

export interface RefusingPort {
  port: number;
  close(): Promise<void>;
}

export async function refusingPort(): Promise<RefusingPort> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => void accepted.push(socket));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port: serverPort } = server.address() as { port: number };
  const holder = connect(serverPort, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    holder.once("error", reject);
    holder.once("connect", () => resolve());
  });
  return {
    port: holder.localPort!,
    async close() {
      holder.destroy();
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
