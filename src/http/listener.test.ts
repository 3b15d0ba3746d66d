import * as http2 from "node:http2";
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { Health } from "../../gen/health/v1/health_pb.js";
import { createHealthService } from "../rpc/health-service.js";
import { createListener, type Listener, type RequestHandler } from "./listener.js";

const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

const listeners: Listener[] = [];

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close(0)));
});

async function serve(handler: RequestHandler): Promise<{ listener: Listener; port: number }> {
  const listener = createListener({ handler });
  listeners.push(listener);
  const { port } = await listener.listen(0, "127.0.0.1");
  return { listener, port };
}

// Answers with the HTTP version the request arrived with, after an optional delay.
const versionHandler: RequestHandler = (req, res) => {
  const delay = Number(new URL(req.url ?? "/", "http://x").searchParams.get("delay") ?? 0);
  setTimeout(() => {
    res.setHeader("content-type", "text/plain");
    res.end(req.httpVersion);
  }, delay);
};

function h2Get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({ ":path": path });
    let status = 0;
    let body = "";
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      body += chunk;
    });
    stream.on("end", () => {
      session.close();
      resolve({ status, body });
    });
    stream.on("error", reject);
  });
}

function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

function readUntil(socket: net.Socket, enough: (data: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (enough(data)) {
        socket.off("data", onData);
        resolve(data);
      }
    };
    socket.on("data", onData);
    socket.on("error", reject);
    socket.on("close", () => resolve(data));
  });
}

describe("createListener", () => {
  it("serves HTTP/1.1 and HTTP/2 with prior knowledge on one port", async () => {
    const { port } = await serve(versionHandler);
    const h1 = await fetch(`http://127.0.0.1:${port}/`);
    expect(await h1.text()).toBe("1.1");
    expect(await h2Get(port, "/")).toEqual({ status: 200, body: "2.0" });
  });

  it("waits for the rest of a preface that arrives in pieces", async () => {
    const { port } = await serve(versionHandler);
    const socket = await rawConnect(port);
    const reply = readUntil(socket, (data) => data.length >= 9);
    socket.write(preface.slice(0, 5));
    await sleep(20);
    socket.write(preface.slice(5, 20));
    await sleep(20);
    socket.write(Buffer.concat([Buffer.from(preface.slice(20)), emptySettings]));
    const frame = await reply;
    // The server's first frame is its SETTINGS: HTTP/2 took the connection.
    expect(frame[3]).toBe(4);
    socket.destroy();
  });

  it("hands a request that starts like the preface to HTTP/1.1", async () => {
    const { port } = await serve(versionHandler);
    const socket = await rawConnect(port);
    const reply = readUntil(socket, (data) => data.toString().endsWith("1.1"));
    // "P" could still become "PRI * HTTP/2.0"; "POST" cannot.
    socket.write("P");
    await sleep(20);
    socket.write("OST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    const text = (await reply).toString();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text.endsWith("1.1")).toBe(true);
    socket.destroy();
  });

  it("finishes in-flight requests while draining and refuses new connections", async () => {
    const { listener, port } = await serve(versionHandler);
    const h1 = fetch(`http://127.0.0.1:${port}/?delay=150`);
    const h2 = h2Get(port, "/?delay=150");
    await sleep(50);
    const closed = listener.close(2000);
    const h1Response = await h1;
    expect(h1Response.headers.get("connection")).toBe("close");
    expect(await h1Response.text()).toBe("1.1");
    expect(await h2).toEqual({ status: 200, body: "2.0" });
    await closed;
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it("does not wait for idle keep-alive connections", async () => {
    const { listener, port } = await serve(versionHandler);
    const agentResponse = await fetch(`http://127.0.0.1:${port}/`);
    await agentResponse.text();
    // fetch keeps the connection alive in its pool.
    const started = Date.now();
    await listener.close(5000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("ends open streams after the grace period", async () => {
    const health = createHealthService();
    const { listener, port } = await serve(
      connectNodeAdapter({ routes: (router) => router.service(Health, health.impl) }),
    );
    const client = createClient(
      Health,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }),
    );
    const stream = client.watch({ service: "" })[Symbol.asyncIterator]();
    expect((await stream.next()).done).toBe(false);
    const started = Date.now();
    await listener.close(200);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(700);
    // The stream ends one way or another; it does not hang.
    await expect(stream.next().catch(() => ({ done: true }))).resolves.toMatchObject({
      done: true,
    });
  });

  it("resolves close when nothing was ever listening", async () => {
    const listener = createListener({ handler: versionHandler });
    await expect(listener.close(100)).resolves.toBeUndefined();
  });
});

describe("idle HTTP/2 sessions", () => {
  it("closes a session that has carried no stream for the idle timeout", async () => {
    const listener = createListener({ handler: versionHandler, http2IdleTimeoutMs: 200 });
    listeners.push(listener);
    const { port } = await listener.listen(0, "127.0.0.1");
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const stream = session.request({ ":path": "/" });
      stream.on("error", reject);
      stream.resume();
      stream.on("end", () => resolve());
    });
    // Nothing more is sent: the server says goodbye on its own.
    await goaway;
    await closed;
    expect(session.destroyed).toBe(true);
  });

  it("keeps a session open while it is in use, and closes it once idle again", async () => {
    const listener = createListener({ handler: versionHandler, http2IdleTimeoutMs: 300 });
    listeners.push(listener);
    const { port } = await listener.listen(0, "127.0.0.1");
    const session = http2.connect(`http://127.0.0.1:${port}`);
    let wentAway = false;
    const goaway = new Promise<void>((resolve) =>
      session.once("goaway", () => {
        wentAway = true;
        resolve();
      }),
    );
    // A request whose answer takes longer than the idle timeout is not cut off.
    const reply = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ":path": "/?delay=500" });
      let body = "";
      stream.setEncoding("utf8");
      stream.on("data", (c: string) => {
        body += c;
      });
      stream.on("error", reject);
      stream.on("end", () => resolve(body));
    });
    expect(reply).toBe("2.0");
    expect(wentAway).toBe(false);
    // Once that stream has closed, the idle timeout starts again and ends the session.
    await goaway;
    expect(wentAway).toBe(true);
  });
});
