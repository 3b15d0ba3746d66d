import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";

/**
 * A request handler that serves both HTTP/1.1 and HTTP/2 requests, such as
 * the one returned by `connectNodeAdapter`.
 */
export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Options for {@link createListener}. */
export interface ListenerOptions {
  /** Serves every request, whatever the HTTP version it arrived with. */
  handler: RequestHandler;
  /**
   * How long a new connection may stay silent before it is dropped, while
   * the listener still waits for enough bytes to tell HTTP/1.1 from HTTP/2.
   * Defaults to 10 seconds.
   */
  sniffTimeoutMs?: number;
  /**
   * How long an HTTP/2 connection may go without any stream or frame before
   * it is closed with a GOAWAY, so idle clients do not hold sessions (and
   * their memory) forever. Defaults to 5 minutes; 0 keeps them open.
   */
  http2IdleTimeoutMs?: number;
}

/**
 * One plaintext port serving HTTP/1.1 and HTTP/2 (h2c with prior knowledge)
 * side by side: gRPC, gRPC-web and Connect share it.
 */
export interface Listener {
  /** Starts accepting connections. Port 0 picks a free port; the result says which. */
  listen(port: number, host?: string): Promise<{ port: number }>;
  /**
   * Stops accepting connections and drains the open ones: HTTP/2 sessions
   * get a GOAWAY, HTTP/1.1 connections close after their current response.
   * Whatever is still open after `graceMs` is destroyed. Always resolves.
   */
  close(graceMs: number): Promise<void>;
}

// Every HTTP/2 connection with prior knowledge opens with these 24 bytes
// (RFC 9113, section 3.4); an HTTP/1.1 request line never does.
const h2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * Creates a {@link Listener}: a `net.Server` that peeks at the first bytes of
 * each connection and hands it to an `http2` server when they are the HTTP/2
 * preface, or to an `http` server otherwise.
 *
 * `http2.createServer({ allowHTTP1: true })` alone cannot do this: without
 * TLS there is no ALPN, so it only ever speaks HTTP/2.
 *
 * @example
 * const listener = createListener({ handler: connectNodeAdapter({ routes }) });
 * const { port } = await listener.listen(8080);
 * process.once("SIGTERM", () => void listener.close(10_000));
 */
export function createListener(options: ListenerOptions): Listener {
  const { handler } = options;
  const sniffTimeoutMs = options.sniffTimeoutMs ?? 10_000;
  const http2IdleTimeoutMs = options.http2IdleTimeoutMs ?? 300_000;
  const conns: Connections = {
    sockets: new Set(),
    sessions: new Set(),
    h2Sockets: new WeakSet(),
    busy: new Map(),
    draining: false,
  };

  const h1 = http.createServer(handler);
  const h2 = http2.createServer(handler);
  // The http server only starts its connection tracking, which enforces
  // headersTimeout and requestTimeout (slowloris), once it sees "listening".
  // It never listens itself: sockets reach it from the net.Server below.
  h1.emit("listening");

  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) =>
    trackResponse(conns, req.socket, res),
  );
  h2.on("session", (session: http2.ServerHttp2Session) =>
    trackSession(conns, session, http2IdleTimeoutMs),
  );
  // Without a listener these would be unhandled; the session is torn down anyway.
  h2.on("sessionError", () => {});

  // Nagle off, as http.createServer does by default: a small response must not
  // wait for an ACK before it leaves (it cost one-stream gRPC clients 20-50 ms).
  const tcp = net.createServer({ noDelay: true }, (socket) => {
    if (conns.draining) {
      socket.destroy();
      return;
    }
    conns.sockets.add(socket);
    socket.once("close", () => {
      conns.sockets.delete(socket);
      conns.busy.delete(socket);
    });
    sniff(socket, sniffTimeoutMs, (isHttp2) => {
      if (isHttp2) {
        // http2 drains the unshifted bytes itself when it takes the socket over.
        conns.h2Sockets.add(socket);
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        // The http server does not resume a paused socket: without this, the
        // unshifted request stays buffered and the connection hangs.
        socket.resume();
      }
    });
  });

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        tcp.once("error", onError);
        tcp.listen(port, host, () => {
          tcp.off("error", onError);
          const address = tcp.address() as net.AddressInfo;
          resolve({ port: address.port });
        });
      });
    },
    close(graceMs) {
      conns.draining = true;
      // Stops the http server's timeout checks; it has no port to close.
      h1.close(() => {});
      return drain(conns, tcp, graceMs);
    },
  };
}

// The connections a listener holds, and whether it is draining.
interface Connections {
  sockets: Set<net.Socket>;
  sessions: Set<http2.ServerHttp2Session>;
  // Sockets handed to http2. Compared by identity here because
  // session.socket is a proxy, not the socket itself.
  h2Sockets: WeakSet<net.Socket>;
  // HTTP/1.1 connections with a request in flight, and their open responses.
  busy: Map<net.Socket, Set<http.ServerResponse>>;
  draining: boolean;
}

// Counts an HTTP/1.1 response as in flight on its socket until it closes;
// while draining, the connection ends with the last one.
function trackResponse(conns: Connections, socket: net.Socket, res: http.ServerResponse): void {
  const open = conns.busy.get(socket) ?? new Set();
  conns.busy.set(socket, open);
  open.add(res);
  if (conns.draining) {
    // Answer this one, then let Node close the connection.
    res.setHeader("Connection", "close");
  }
  res.once("close", () => {
    open.delete(res);
    if (open.size > 0) {
      return;
    }
    conns.busy.delete(socket);
    if (conns.draining) {
      socket.end();
    }
  });
}

// Holds an HTTP/2 session until it closes; while draining, it gets its GOAWAY at once.
function trackSession(
  conns: Connections,
  session: http2.ServerHttp2Session,
  idleTimeoutMs: number,
): void {
  conns.sessions.add(session);
  session.once("close", () => conns.sessions.delete(session));
  if (idleTimeoutMs > 0) closeWhenIdle(session, idleTimeoutMs);
  if (conns.draining) {
    session.close();
  }
}

// Reads a new connection's first bytes until they tell HTTP/2 (the preface)
// from HTTP/1.1, puts them back, and hands the paused socket to `decided`.
// A socket that stays silent for `timeoutMs`, or fails, is destroyed.
function sniff(socket: net.Socket, timeoutMs: number, decided: (isHttp2: boolean) => void): void {
  let head: Buffer = Buffer.alloc(0);
  const onError = () => socket.destroy();
  const onTimeout = () => socket.destroy();
  const onData = (chunk: Buffer) => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const n = Math.min(head.length, h2Preface.length);
    const matches = head.subarray(0, n).equals(h2Preface.subarray(0, n));
    if (matches && head.length < h2Preface.length) {
      // A prefix of the preface: wait for the rest before deciding.
      return;
    }
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("timeout", onTimeout);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(head);
    decided(matches);
  };
  socket.on("data", onData);
  socket.on("error", onError);
  socket.on("timeout", onTimeout);
  socket.setTimeout(timeoutMs);
}

// Stops accepting, asks every open connection to end (GOAWAY, or
// "Connection: close" on the response in flight), and destroys whatever is
// left after `graceMs`. Resolves once all is closed, or the grace ran out.
function drain(conns: Connections, tcp: net.Server, graceMs: number): Promise<void> {
  const { sockets, sessions } = conns;
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    if (tcp.listening) {
      // The callback runs once every accepted socket has closed.
      tcp.close(() => done());
    } else if (sockets.size === 0) {
      done();
      return;
    }
    askToClose(conns);
    timer = setTimeout(() => {
      for (const session of sessions) {
        session.destroy();
      }
      for (const socket of sockets) {
        socket.destroy();
      }
      // Destroyed sockets report "close" on a later tick; do not wait for
      // the net.Server callback longer than that.
      setImmediate(done);
    }, graceMs);
  });
}

// The polite part of draining: nothing is cut off mid-response.
function askToClose({ sockets, sessions, h2Sockets, busy }: Connections): void {
  for (const session of sessions) {
    // Sends GOAWAY: no new streams, open ones may finish.
    session.close();
  }
  for (const socket of sockets) {
    if (h2Sockets.has(socket)) {
      // Its session got the GOAWAY above.
      continue;
    }
    const open = busy.get(socket);
    if (open === undefined) {
      // Idle keep-alive, or still being sniffed.
      socket.destroy();
      continue;
    }
    // Busy: tell the client this connection ends with the response, and
    // end it from the response's close handler.
    for (const res of open) {
      if (!res.headersSent) {
        res.setHeader("Connection", "close");
      }
    }
  }
}

// Closes a session (GOAWAY) once it has had no open stream for `idleMs`. A
// stream that stays quiet (a watch waiting for events) keeps it open. One
// timer per session, restarted when its last open stream closes: a call
// costs a counter and a refresh, not a timer of its own.
function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number): void {
  let open = 0;
  let ended = false;
  const timer = setTimeout(() => {
    if (open === 0 && !session.closed) session.close();
  }, idleMs);
  timer.unref();
  const closed = () => {
    open -= 1;
    if (open === 0 && !ended) timer.refresh();
  };
  session.on("stream", (stream) => {
    open += 1;
    stream.once("close", closed);
  });
  session.once("close", () => {
    ended = true;
    clearTimeout(timer);
  });
}
