import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createContextValues } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { readUnaryBody } from "./unary-body.js";
import { toUniversalRequest } from "./universal-request.js";

let server: http.Server | undefined;
afterEach(() => server?.close());

// A real server that hands each request to `readUnaryBody` and reports what it gave.
async function serve(maxBytes: number): Promise<string> {
  server = http.createServer((req, res) => {
    const uReq = toUniversalRequest(req, res, createContextValues(), false);
    const pending = readUnaryBody(uReq, maxBytes);
    if (pending === undefined) {
      req.resume();
      res.end("left to connect");
      return;
    }
    pending.then(
      (bytes) => res.end(`read ${Buffer.from(bytes).toString()}`),
      () => res.end("rejected"),
    );
  });
  server.listen(0, "127.0.0.1");
  await new Promise((r) => server?.once("listening", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("readUnaryBody", () => {
  it("reads a body of declared length within the bound", async () => {
    const url = await serve(64);
    const res = await fetch(url, { method: "POST", body: '{"id":"x"}' });
    expect(await res.text()).toBe('read {"id":"x"}');
  });

  it("leaves a body larger than the bound to Connect, unread", async () => {
    const url = await serve(4);
    const res = await fetch(url, { method: "POST", body: "12345" });
    expect(await res.text()).toBe("left to connect");
  });

  it("leaves compressed and chunked bodies to Connect", async () => {
    const url = await serve(64);
    const gz = await fetch(url, {
      method: "POST",
      body: "x",
      headers: { "content-encoding": "gzip" },
    });
    expect(await gz.text()).toBe("left to connect");
    const chunked = await fetch(url, {
      method: "POST",
      body: new Blob(["abc"]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(await chunked.text()).toBe("left to connect");
  });

  it("rejects when the client goes away before the declared length arrives", async () => {
    const url = new URL(await serve(64));
    const answered = new Promise<string>((resolve) => {
      server?.once("request", (_req, res: http.ServerResponse) => {
        const end = res.end.bind(res);
        res.end = ((text: string) => {
          resolve(text);
          return end(text);
        }) as typeof res.end;
      });
    });
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: "POST",
      headers: { "content-length": "10" },
    });
    req.on("error", () => {});
    req.write("abc");
    setTimeout(() => req.destroy(), 50);
    expect(await answered).toBe("rejected");
  });
});
