import type { Socket } from "node:net";
import { Cluster, type Redis } from "ioredis";

const coalesced = new WeakSet<Socket>();

/**
 * Makes a connection send every command written to it during one turn of
 * the event loop in one write. ioredis writes each command to the socket as
 * it is issued, one `write` syscall each; under load, the calls a turn
 * handles (one per ready HTTP connection) each write their one script. The
 * first write of a turn corks the socket and the check phase (`setImmediate`,
 * after every I/O callback of the turn) uncorks it, so Node sends them with
 * one `writev`, and Redis reads them with one `read`. A lone call is sent
 * in the same turn it was issued, only later in it.
 *
 * Applies to every socket the client opens, reconnects included; a Cluster
 * to each node's connection.
 *
 * @example
 * const client = new Redis(url);
 * coalesceWrites(client);
 */
export function coalesceWrites(client: Redis | Cluster): void {
  if (client instanceof Cluster) {
    client.on("+node", (node: Redis) => coalesceWrites(node));
    return;
  }
  client.on("connect", () => {
    const stream = (client as unknown as { stream?: Socket }).stream;
    if (stream !== undefined) coalesceSocket(stream);
  });
}

function coalesceSocket(socket: Socket): void {
  if (coalesced.has(socket)) return;
  coalesced.add(socket);
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const write = socket.write;
  socket.write = function coalescedWrite(this: Socket, ...args: unknown[]): boolean {
    if (!corked && !this.destroyed) {
      corked = true;
      this.cork();
      setImmediate(uncork);
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket["write"];
}
