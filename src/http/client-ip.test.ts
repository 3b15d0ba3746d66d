import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { createContextValues } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ClientIpResolver,
  clientIpContextValues,
  clientIpKey,
  createClientIpResolver,
} from "./client-ip.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Serves the resolver's answer as the body, over HTTP/1.1; returns the base URL. */
async function serveHttp1(resolve: ClientIpResolver, host = "127.0.0.1"): Promise<number> {
  const server = http.createServer((req, res) => res.end(resolve(req)));
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(0, host, () => done());
  });
  closers.push(
    () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function ipOverHttp1(port: number, forwardedFor?: string): Promise<string> {
  const headers: Record<string, string> =
    forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor };
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers });
  return res.text();
}

async function ipOverHttp2(resolve: ClientIpResolver, forwardedFor?: string): Promise<string> {
  const server = http2.createServer((req, res) => res.end(resolve(req)));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  const { port } = server.address() as AddressInfo;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({
      ":path": "/",
      ...(forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor }),
    });
    stream.setEncoding("utf8");
    let body = "";
    for await (const chunk of stream) body += chunk;
    return body;
  } finally {
    session.close();
    await new Promise((done) => server.close(done));
  }
}

describe("createClientIpResolver over HTTP/1.1", () => {
  it("answers the peer address when no proxy is trusted", async () => {
    const port = await serveHttp1(createClientIpResolver([]));
    expect(await ipOverHttp1(port)).toBe("127.0.0.1");
  });

  it("ignores X-Forwarded-For when no proxy is trusted", async () => {
    const port = await serveHttp1(createClientIpResolver([]));
    expect(await ipOverHttp1(port, "203.0.113.7")).toBe("127.0.0.1");
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    const port = await serveHttp1(createClientIpResolver(["10.0.0.0/8"]));
    expect(await ipOverHttp1(port, "203.0.113.7")).toBe("127.0.0.1");
  });

  it("takes the forwarded address from a trusted proxy", async () => {
    const port = await serveHttp1(createClientIpResolver(["loopback"]));
    expect(await ipOverHttp1(port, "203.0.113.7")).toBe("203.0.113.7");
    expect(await ipOverHttp1(port)).toBe("127.0.0.1");
  });

  it("stops at the first hop that is not trusted, so a client cannot spoof the left of the list", async () => {
    const port = await serveHttp1(createClientIpResolver(["127.0.0.1"]));
    expect(await ipOverHttp1(port, "198.51.100.1, 203.0.113.7")).toBe("203.0.113.7");
  });

  it("walks back through every trusted hop", async () => {
    const port = await serveHttp1(createClientIpResolver(["loopback", "203.0.113.0/24"]));
    expect(await ipOverHttp1(port, "198.51.100.1, 203.0.113.7")).toBe("198.51.100.1");
    expect(await ipOverHttp1(port, "198.51.100.1,203.0.113.9 ,203.0.113.7")).toBe("198.51.100.1");
  });

  it("gives forwarded IPv4-mapped IPv6 addresses as IPv4", async () => {
    const port = await serveHttp1(createClientIpResolver(["loopback"]));
    expect(await ipOverHttp1(port, "::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(await ipOverHttp1(port, "2001:DB8::1")).toBe("2001:db8::1");
  });

  it("drops a port a proxy appended", async () => {
    const port = await serveHttp1(createClientIpResolver(["loopback"]));
    expect(await ipOverHttp1(port, "203.0.113.7:5555")).toBe("203.0.113.7");
    expect(await ipOverHttp1(port, "[2001:db8::1]:443")).toBe("2001:db8::1");
  });

  it("answers for the trusted proxy when it forwarded something that is not an address", async () => {
    const port = await serveHttp1(createClientIpResolver(["loopback"]));
    expect(await ipOverHttp1(port, "unknown")).toBe("127.0.0.1");
    expect(await ipOverHttp1(port, "x".repeat(500))).toBe("127.0.0.1");
  });

  it("gives an IPv4-mapped peer address as IPv4 and matches it against IPv4 ranges", async (ctx) => {
    // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
    let port: number;
    try {
      port = await serveHttp1(createClientIpResolver([]), "::");
    } catch {
      ctx.skip("no IPv6 on this machine");
      return;
    }
    expect(await ipOverHttp1(port)).toBe("127.0.0.1");
    const trusting = await serveHttp1(createClientIpResolver(["127.0.0.1"]), "::");
    expect(await ipOverHttp1(trusting, "203.0.113.7")).toBe("203.0.113.7");
  });
});

describe("createClientIpResolver over HTTP/2", () => {
  it("answers the peer address and ignores X-Forwarded-For when no proxy is trusted", async () => {
    const resolve = createClientIpResolver([]);
    expect(await ipOverHttp2(resolve)).toBe("127.0.0.1");
    expect(await ipOverHttp2(resolve, "203.0.113.7")).toBe("127.0.0.1");
  });

  it("takes the forwarded address from a trusted proxy", async () => {
    const resolve = createClientIpResolver(["loopback"]);
    expect(await ipOverHttp2(resolve, "198.51.100.1, 203.0.113.7")).toBe("203.0.113.7");
  });
});

describe("clientIpContextValues", () => {
  it("sets the client IP key from the resolver", () => {
    const values = clientIpContextValues(() => "203.0.113.7")({} as http.IncomingMessage);
    expect(values.get(clientIpKey)).toBe("203.0.113.7");
  });

  it("reads unknown where nothing set the key", () => {
    expect(createContextValues().get(clientIpKey)).toBe("unknown");
  });
});
