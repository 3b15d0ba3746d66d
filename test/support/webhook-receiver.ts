import { createHmac, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One request the receiver took. */
export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: Record<string, unknown>;
  /** The status the receiver answered. */
  status: number;
}

/** A webhook receiver for tests: a real HTTP server checking every signature. */
export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order. */
  received: Received[];
  /** How many times each webhook-id was accepted (answered 2xx). */
  accepted: Map<string, number>;
  /** Requests whose signature did not verify (the receiver answers them 401). */
  badSignatures: number;
  /** The status to answer valid requests with; 200 by default. */
  answer: number;
  /** The secrets a valid request may be signed with (any one of its signatures). */
  secrets: string[];
  close(): Promise<void>;
}

/**
 * The spec's signature, computed here without the library: base64 of
 * HMAC-SHA256, keyed by the base64 part of `whsec_...`, over
 * "<id>.<timestamp>.<body>". An independent check of the service's signing.
 */
export function independentSignatureValid(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
  header: string,
): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  return header.split(" ").some((part) => {
    const [version, sig] = part.split(",");
    if (version !== "v1" || sig === undefined) return false;
    const given = Buffer.from(sig, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * Starts a receiver on 127.0.0.1: each request is verified with the
 * standardwebhooks library and with {@link independentSignatureValid} against
 * the current secrets; valid ones are answered `answer` and, when 2xx,
 * counted per webhook-id.
 */
export async function startWebhookReceiver(secrets: string[] = []): Promise<WebhookReceiver> {
  const receiver = {
    url: "",
    received: [] as Received[],
    accepted: new Map<string, number>(),
    badSignatures: 0,
    answer: 200,
    secrets,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString();
      const id = String(req.headers["webhook-id"] ?? "");
      const timestamp = String(req.headers["webhook-timestamp"] ?? "");
      const signature = String(req.headers["webhook-signature"] ?? "");
      const headers = {
        "webhook-id": id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
      };
      const valid = receiver.secrets.some((secret) => {
        try {
          new Webhook(secret).verify(raw, headers);
        } catch {
          return false;
        }
        return independentSignatureValid(secret, id, timestamp, raw, signature);
      });
      const status = valid ? receiver.answer : 401;
      if (!valid) receiver.badSignatures++;
      else if (status >= 200 && status < 300) {
        receiver.accepted.set(id, (receiver.accepted.get(id) ?? 0) + 1);
      }
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {}
      receiver.received.push({ id, timestamp, signature, body, status });
      res.writeHead(status).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    ...receiver,
    get received() {
      return receiver.received;
    },
    get accepted() {
      return receiver.accepted;
    },
    get badSignatures() {
      return receiver.badSignatures;
    },
    get answer() {
      return receiver.answer;
    },
    set answer(status: number) {
      receiver.answer = status;
    },
    get secrets() {
      return receiver.secrets;
    },
    set secrets(list: string[]) {
      receiver.secrets = list;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
