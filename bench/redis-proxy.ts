import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";

/** A TCP proxy in front of Redis that counts the service's request turns. */
export interface TurnCountingProxy {
  port: number;
  /** Turns so far, over all connections: see {@link startTurnCountingProxy}. */
  turns(): number;
  close(): Promise<void>;
}

/**
 * Forwards 127.0.0.1:<port> to the Redis at `targetPort` and counts turns:
 * on each connection, a turn starts when the client sends bytes after Redis
 * has answered (or for the first time). Commands written before any answer
 * came back, a pipeline, a MULTI block or an un-awaited command sent
 * alongside the awaited one, share a turn; a command that had to wait for an
 * answer starts a new one. So the turns of one call on its own are its
 * sequential round trips. Only the single-call traces go through it; the load
 * runs talk to Redis directly.
 */
export async function startTurnCountingProxy(targetPort: number): Promise<TurnCountingProxy> {
  let turns = 0;
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ port: targetPort, host: "127.0.0.1", noDelay: true });
    sockets.add(client);
    sockets.add(upstream);
    let answered = true;
    client.on("data", (chunk: Buffer) => {
      if (answered) turns += 1;
      answered = false;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      answered = true;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no proxy address");
  return {
    port: address.port,
    turns: () => turns,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
