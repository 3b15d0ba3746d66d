import * as http from "node:http";
import * as http2 from "node:http2";
import { createGzip } from "node:zlib";

/** What a hand-made call got back: status, headers and trailers merged, and the body. */
export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends one gRPC (or gRPC-web over HTTP/2) request built by hand on a fresh
 * HTTP/2 session: the frames are exactly `body`, so a test can send what no
 * generated client would (a truncated message, a compressed flag without an
 * encoding). Headers and trailers come back merged.
 */
export async function rawHttp2(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | Iterable<Buffer>,
): Promise<RawReply> {
  const session = http2.connect(baseUrl);
  try {
    return await new Promise<RawReply>((resolve, reject) => {
      session.on("error", reject);
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        te: "trailers",
        ...headers,
      });
      const merged: Record<string, string> = {};
      const chunks: Buffer[] = [];
      let status = 0;
      const take = (h: http2.IncomingHttpHeaders) => {
        for (const [k, v] of Object.entries(h)) {
          if (typeof v === "string") merged[k] = v;
          else if (typeof v === "number") merged[k] = String(v);
        }
      };
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        take(h);
      });
      stream.on("trailers", take);
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => resolve({ status, headers: merged, body: Buffer.concat(chunks) }));
      // A server may answer before it has read everything; that is the point.
      stream.on("error", (err) => (status === 0 ? reject(err) : undefined));
      const parts = Buffer.isBuffer(body) ? [body] : body;
      (async () => {
        for (const part of parts) {
          if (stream.destroyed || stream.writableEnded) return;
          if (!stream.write(part)) {
            await new Promise<void>((r) => {
              stream.once("drain", r);
              stream.once("close", r);
            });
          }
        }
        if (!stream.destroyed) stream.end();
      })();
    });
  } finally {
    session.close();
  }
}

/**
 * Sends one HTTP/1.1 POST built by hand. The body goes out in one write
 * (written whole before the server can answer, so a refusal never races a
 * later write); `null` sends the headers alone, for a server that should
 * answer from a declared `content-length` without waiting for the body.
 */
export async function rawHttp1(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | null,
): Promise<RawReply> {
  return new Promise<RawReply>((resolve, reject) => {
    const req = http.request(new URL(path, baseUrl), { method: "POST", headers, agent: false });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const merged: Record<string, string> = {};
        for (const [k, v] of Object.entries({ ...res.headers, ...res.trailers })) {
          if (typeof v === "string") merged[k] = v;
        }
        resolve({ status: res.statusCode ?? 0, headers: merged, body: Buffer.concat(chunks) });
        req.destroy();
      });
    });
    req.on("error", (err) => (answered ? undefined : reject(err)));
    if (body === null) req.flushHeaders();
    else req.end(body);
  });
}

/** A gRPC length-prefixed frame: the compressed flag, the length, the message. */
export function grpcFrame(message: Uint8Array, compressed = false): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/**
 * A gzip stream that inflates to `inflatedBytes` of zeros: about a
 * thousandth of that on the wire. Made in 1 MiB steps, so the test itself
 * never holds the inflated size.
 */
export async function gzipBomb(inflatedBytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on("data", (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve) => gzip.on("end", resolve));
  const step = Buffer.alloc(1 << 20);
  for (let written = 0; written < inflatedBytes; written += step.length) {
    if (!gzip.write(step)) await new Promise((r) => gzip.once("drain", r));
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

/** The resident memory of a process, in MiB, from /proc. */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return kb / 1024;
}
