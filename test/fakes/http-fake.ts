import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** A fake provider's HTTP server on 127.0.0.1, on a port the OS picked. */
export interface FakeHttpServer {
  /** For example "http://127.0.0.1:40123", without a trailing slash. */
  url: string;
  server: Server;
  /** Closes the server and every open connection. */
  close(): Promise<void>;
}

/** Starts an HTTP server for a fake; `handler` errors answer 500. */
export async function listenFake(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void,
): Promise<FakeHttpServer> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake: no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads a request body as text. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Answers with JSON. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Drops the connection without an answer, as a network failure would. */
export function dropConnection(req: IncomingMessage): void {
  req.socket.destroy();
}

/** Failures a fake can be told to answer with, in order, before it answers normally again. */
export class FailureQueue<F> {
  readonly #queues = new Map<string, F[]>();

  /** Queues `failure` for the next `times` calls of `key`. */
  add(key: string, failure: F, times = 1): void {
    const queue = this.#queues.get(key) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.#queues.set(key, queue);
  }

  /** Takes the next failure queued for `key`, if any. */
  take(key: string): F | undefined {
    return this.#queues.get(key)?.shift();
  }

  clear(): void {
    this.#queues.clear();
  }
}

/** Waits `ms` milliseconds, or less if the client goes away first. */
export function delay(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    res.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
