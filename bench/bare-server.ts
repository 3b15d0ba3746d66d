import { once } from "node:events";
import { createServer as createHttp1Server } from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import { createServer as createNetServer, type Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "../gen/health/v1/health_pb.js";

/**
 * The floor the bench divides by: a bare Connect-node server with one
 * constant unary method (`grpc.health.v1.Health/Check` answering SERVING),
 * no interceptors, no context values, nothing from `src/`. It is served the
 * way the service is, HTTP/1.1 and h2c on one plaintext port, the first
 * bytes of each connection choosing the protocol, so whatever the service
 * costs beyond this is its own.
 */
export async function startBareServer(port = 0, host = "127.0.0.1"): Promise<string> {
  const answer = create(HealthCheckResponseSchema, {
    status: HealthCheckResponse_ServingStatus.SERVING,
  });
  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      router.service(Health, { check: () => answer, watch: async function* () {} });
    },
  });
  const http1 = createHttp1Server(handler);
  const http2 = createHttp2Server(handler);
  const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  // Nagle off, as node:http does for its own sockets: h2 writes headers, data
  // and trailers separately, and with Nagle on a one-stream client waits on
  // delayed ACKs.
  const server = createNetServer({ noDelay: true }, (socket: Socket) => {
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      const h2 = chunk.subarray(0, preface.length).equals(preface.subarray(0, chunk.length));
      // http2 drains the unshifted bytes itself; the http server needs a resume.
      if (h2) http2.emit("connection", socket);
      else {
        http1.emit("connection", socket);
        socket.resume();
      }
    });
  });
  server.listen(port, host);
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return `http://${host}:${address.port}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const url = await startBareServer(Number(process.env.PORT ?? "0"));
  process.stdout.write(`bare Connect-node server listening on ${url}\n`);
  process.on("SIGTERM", () => process.exit(0));
}
