import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeliveryStatus } from "../channel.js";
import type { GatewayRequestStatus } from "./gateway-client.js";

/** The outcome of {@link verifyGatewaySignature}. */
export type GatewaySignatureCheck = "valid" | "missing" | "stale" | "invalid";

/**
 * The signature Telegram puts on a delivery report: the hex HMAC-SHA256 of
 * `timestamp + "\n" + body`, keyed by the SHA-256 of the API token.
 *
 * @example
 * gatewaySignature(token, "1735689600", '{"request_id":"..."}'); // "9f2c..."
 */
export function gatewaySignature(token: string, timestamp: string, body: string): string {
  const key = createHash("sha256").update(token, "utf8").digest();
  return createHmac("sha256", key).update(`${timestamp}\n${body}`, "utf8").digest("hex");
}

/**
 * Checks a delivery report's `X-Request-Timestamp` (Unix seconds) and
 * `X-Request-Signature`: "stale" when the timestamp is further than
 * `maxAgeMs` from now either way (a replayed report), "invalid" when the
 * signature does not match (compared in constant time), "missing" when a
 * header is absent.
 */
export function verifyGatewaySignature(input: {
  token: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  nowMs: number;
  maxAgeMs: number;
}): GatewaySignatureCheck {
  const { timestamp, signature } = input;
  if (timestamp === undefined || signature === undefined || timestamp === "" || signature === "") {
    return "missing";
  }
  if (!/^\d{1,12}$/.test(timestamp)) return "invalid";
  if (Math.abs(input.nowMs - Number(timestamp) * 1000) > input.maxAgeMs) return "stale";
  const expected = Buffer.from(gatewaySignature(input.token, timestamp, input.body), "hex");
  const given = /^[0-9a-fA-F]{64}$/.test(signature) ? Buffer.from(signature, "hex") : undefined;
  if (given === undefined || !timingSafeEqual(expected, given)) return "invalid";
  return "valid";
}

/** One verified delivery report, mapped to our statuses. */
export interface GatewayReport {
  /** Our delivery id, from the `payload` we sent. */
  deliveryId: string;
  /** The Gateway's request id: the delivery's provider message id. */
  requestId: string;
  /** Our status; undefined when the report says nothing we track. */
  status: DeliveryStatus | undefined;
  /** For "failed", why. */
  reason: string;
  /** The Gateway's delivery status, for example "read". */
  providerStatus: string;
}

/**
 * Maps a report to a delivery status. The delivery status comes first:
 * sent is "sent"; delivered and read are "delivered"; expired (not delivered
 * within the ttl, and refunded) is "failed" with "PROVIDER_UNDELIVERED";
 * revoked is "deleted". A verification status of `code_valid` also proves
 * delivery. Anything else gives undefined.
 */
export function mapGatewayReport(
  report: Pick<GatewayRequestStatus, "delivery_status" | "verification_status">,
): { status: DeliveryStatus | undefined; reason: string } {
  switch (report.delivery_status?.status) {
    case "sent":
      if (report.verification_status?.status === "code_valid") break;
      return { status: "sent", reason: "" };
    case "delivered":
    case "read":
      return { status: "delivered", reason: "" };
    case "expired":
      return { status: "failed", reason: "PROVIDER_UNDELIVERED" };
    case "revoked":
      return { status: "deleted", reason: "" };
  }
  if (report.verification_status?.status === "code_valid") {
    return { status: "delivered", reason: "" };
  }
  return { status: undefined, reason: "" };
}

/** Options for {@link createGatewayReportHandler}. */
export interface GatewayReportHandlerOptions {
  token: string;
  /** Receives each verified report; a rejection answers 500 so that Telegram sends it again. */
  onReport: (report: GatewayReport) => Promise<void> | void;
  /** How far a report's timestamp may be from now; 5 minutes by default. */
  maxAgeMs?: number;
  /** The largest body accepted, in bytes; 16 KiB by default. */
  maxBodyBytes?: number;
  now?: () => number;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A Node http handler for the Gateway's delivery reports: it reads the body
 * (413 past the bound, before parsing anything), checks timestamp and
 * signature (401 when missing, stale or wrong), parses the `RequestStatus`
 * (400 when it is not one of ours), and hands the mapped report to
 * `onReport`; then 204.
 */
export function createGatewayReportHandler(
  options: GatewayReportHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const maxBody = options.maxBodyBytes ?? 16 * 1024;
  const maxAgeMs = options.maxAgeMs ?? 300_000;
  const now = options.now ?? Date.now;
  return async (req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const declared = Number(req.headers["content-length"] ?? 0);
    let body: string;
    try {
      if (declared > maxBody) throw new Error("body too large");
      body = await readBody(req, maxBody);
    } catch {
      res.writeHead(413, { connection: "close" }).end();
      return;
    }
    const check = verifyGatewaySignature({
      token: options.token,
      timestamp: header(req, "x-request-timestamp"),
      signature: header(req, "x-request-signature"),
      body,
      nowMs: now(),
      maxAgeMs,
    });
    if (check !== "valid") {
      res.writeHead(401).end();
      return;
    }
    const parsed = parseReport(body);
    if (parsed === undefined) {
      res.writeHead(400).end();
      return;
    }
    try {
      await options.onReport(parsed);
    } catch {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(204).end();
  };
}

function parseReport(body: string): GatewayReport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as GatewayRequestStatus;
  if (typeof r.request_id !== "string" || r.request_id === "" || r.request_id.length > 128) {
    return undefined;
  }
  if (typeof r.payload !== "string" || !uuid.test(r.payload)) return undefined;
  const mapped = mapGatewayReport(r);
  return {
    deliveryId: r.payload.toLowerCase(),
    requestId: r.request_id,
    status: mapped.status,
    reason: mapped.reason,
    providerStatus: String(r.delivery_status?.status ?? "").slice(0, 32),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new Error("body too large");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
