import type { Readable } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";

/** The flag of a compressed gRPC message frame. */
export const flagsCompressed = 0b1;

/**
 * A gRPC frame: the flags byte, the big-endian length, the bytes.
 *
 * @example
 * envelope(0, toBinary(schema, message));
 */
export function envelope(flags: number, data: Uint8Array): Uint8Array {
  const frame = Buffer.allocUnsafe(5 + data.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(data.byteLength, 1);
  frame.set(data, 5);
  return frame;
}

/**
 * The one gRPC message of a unary request body: its five-byte prefix read
 * first, so a declared length over `maxBytes` is refused before the rest
 * arrives, and a body holding more than one message is refused as soon as
 * the extra byte does.
 */
export function readSingleEnvelope(stream: Readable, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let expected = -1;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (expected < 0 && received >= 5) {
        const head = chunks.length === 1 ? chunk : Buffer.concat(chunks, received);
        const flags = head[0] ?? 0;
        if (flags !== 0) {
          const compressed = (flags & flagsCompressed) !== 0;
          done(
            malformed(
              compressed
                ? "protocol error: received a compressed message without grpc-encoding"
                : "protocol error: unknown message flags",
            ),
          );
          return;
        }
        expected = head.readUInt32BE(1);
        if (expected > maxBytes) {
          done(
            new ConnectError(
              `message size ${expected} is larger than configured readMaxBytes ${maxBytes}`,
              Code.ResourceExhausted,
            ),
          );
          return;
        }
      }
      if (expected >= 0 && received > 5 + expected) {
        done(malformed("protocol error: received extra input message for unary method"));
      }
    };
    const onEnd = () => {
      if (received === 0) done(malformed("protocol error: missing input message for unary method"));
      else if (expected < 0 || received < 5 + expected) {
        done(malformed("protocol error: incomplete envelope"));
      } else {
        const whole = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
        done(undefined, whole.subarray(5));
      }
    };
    const onAborted = () => done(new ConnectError("the call was canceled", Code.Canceled));
    const done = (err: ConnectError | undefined, message?: Uint8Array) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onAborted);
      stream.off("aborted", onAborted);
      if (err === undefined && message !== undefined) resolve(message);
      else reject(err);
    };
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onAborted);
    stream.once("aborted", onAborted);
  });
}

function malformed(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
