import type { IncomingMessage, ServerResponse } from "node:http";
import twilio from "twilio";
import type { DeliveryStatus } from "../channel.js";

/** The query parameter that carries our delivery id in a status callback URL. */
export const deliveryIdParam = "delivery";

/**
 * The status callback URL for one delivery: the configured public URL with
 * the delivery id added to its query. Twilio signs the full URL, so the id
 * cannot be altered, and no SID-to-delivery index is needed.
 *
 * @example
 * twilioStatusCallbackUrl("https://otp.example.com/twilio/status", "5f0c...");
 * // "https://otp.example.com/twilio/status?delivery=5f0c..."
 */
export function twilioStatusCallbackUrl(publicUrl: string, deliveryId: string): string {
  const url = new URL(publicUrl);
  url.searchParams.set(deliveryIdParam, deliveryId);
  return url.toString();
}

/**
 * Maps Twilio's `MessageStatus` to ours: accepted, scheduled, queued and
 * sending are "queued"; sent is "sent"; delivered and read (WhatsApp) are
 * "delivered"; undelivered, failed and canceled are "failed". Inbound and
 * unknown statuses give undefined.
 */
export function mapTwilioStatus(status: string): DeliveryStatus | undefined {
  switch (status) {
    case "accepted":
    case "scheduled":
    case "queued":
    case "sending":
      return "queued";
    case "sent":
      return "sent";
    case "delivered":
    case "read":
      return "delivered";
    case "undelivered":
    case "failed":
    case "canceled":
      return "failed";
    default:
      return undefined;
  }
}

/**
 * Maps Twilio's `CallStatus` to ours: queued and initiated are "queued";
 * ringing and in-progress are "sent" (the phone rang; the person may be
 * listening); completed is "delivered" (the call was answered and the code
 * read to its end, or to an answering machine); busy, no-answer, failed and
 * canceled are "failed".
 */
export function mapTwilioCallStatus(status: string): DeliveryStatus | undefined {
  switch (status) {
    case "queued":
    case "initiated":
      return "queued";
    case "ringing":
    case "in-progress":
      return "sent";
    case "completed":
      return "delivered";
    case "busy":
    case "no-answer":
    case "failed":
    case "canceled":
      return "failed";
    default:
      return undefined;
  }
}

// Why a call that did not reach anyone failed.
const callFailureReasons: Record<string, string> = {
  busy: "RECIPIENT_BUSY",
  "no-answer": "RECIPIENT_NO_ANSWER",
  canceled: "DELIVERY_CANCELED",
};

/** Twilio delivery error codes (30xxx, 63xxx) with a reason of our own. */
const statusErrorReasons: Record<string, string> = {
  "21610": "RECIPIENT_OPTED_OUT",
  "30003": "RECIPIENT_UNREACHABLE",
  "30004": "RECIPIENT_OPTED_OUT",
  "30005": "RECIPIENT_NOT_FOUND",
  "30006": "RECIPIENT_UNREACHABLE",
  "30007": "PROVIDER_REJECTED",
  "30008": "PROVIDER_UNDELIVERED",
  "30034": "PROVIDER_REJECTED",
  "63016": "PROVIDER_REJECTED",
  "63024": "RECIPIENT_INVALID",
};

/**
 * The reason to record for a failed status callback, from Twilio's
 * `ErrorCode`: for example 30003 (unreachable handset) gives
 * "RECIPIENT_UNREACHABLE", and an unknown or missing code "PROVIDER_UNDELIVERED".
 */
export function twilioFailureReason(errorCode: string | undefined): string {
  return (
    (errorCode === undefined ? undefined : statusErrorReasons[errorCode]) ?? "PROVIDER_UNDELIVERED"
  );
}

/**
 * Tells whether a request really comes from Twilio: `X-Twilio-Signature` must
 * be the HMAC-SHA1, keyed by the auth token, of the full URL followed by the
 * sorted form parameters, as the SDK's `validateRequest` checks.
 */
export function verifyTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  if (signature === undefined || signature === "") return false;
  return twilio.validateRequest(authToken, signature, url, params);
}

/** One verified status report. */
export interface TwilioStatusEvent {
  deliveryId: string;
  channel: "sms" | "whatsapp" | "voice";
  /** The message SID, or the call SID of a voice call. */
  providerMessageId: string;
  status: DeliveryStatus;
  /** Twilio's own status, for example "undelivered". */
  providerStatus: string;
  /** Twilio's error code on failure (for example "30003", unreachable handset). */
  errorCode?: string;
  /** The reason of a failed call, from its status (for example "RECIPIENT_BUSY"). */
  callFailureReason?: string;
}

/** Options for {@link createTwilioStatusHandler}. */
export interface TwilioStatusHandlerOptions {
  authToken: string;
  /**
   * The public URL the callbacks are sent to, as configured for the channel.
   * Signatures are checked against its origin and path plus the query of the
   * request, so a proxy in front of the service may change host and path.
   */
  publicUrl: string;
  /** Receives each verified status; a rejection answers 500 so that the report is not lost silently. */
  onStatus: (event: TwilioStatusEvent) => Promise<void> | void;
  /** The largest body accepted, in bytes; 64 KiB by default. */
  maxBodyBytes?: number;
}

/**
 * A Node http handler for Twilio's status callbacks, of messages and of
 * voice calls (told apart by `CallSid`): it reads the form body, checks the signature (403 when wrong), maps the status and hands
 * it to `onStatus`, then answers 204. Mount it at the path of `publicUrl`.
 */
export function createTwilioStatusHandler(
  options: TwilioStatusHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const base = new URL(options.publicUrl);
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  return async (req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    let body: string;
    try {
      body = await readBody(req, maxBody);
    } catch {
      res.writeHead(413).end();
      return;
    }
    const params = Object.fromEntries(new URLSearchParams(body));
    const requestUrl = new URL(req.url ?? "/", base);
    const signedUrl = `${base.origin}${base.pathname}${requestUrl.search}`;
    const header = req.headers["x-twilio-signature"];
    const signature = Array.isArray(header) ? header[0] : header;
    if (!verifyTwilioSignature(options.authToken, signature, signedUrl, params)) {
      res.writeHead(403).end();
      return;
    }
    const deliveryId = requestUrl.searchParams.get(deliveryIdParam) ?? "";
    // A voice call's callback names a CallSid and a CallStatus instead.
    const call = params.CallSid !== undefined && params.MessageSid === undefined;
    const sid = call ? params.CallSid : params.MessageSid;
    const providerStatus = call
      ? (params.CallStatus ?? "")
      : (params.MessageStatus ?? params.SmsStatus ?? "");
    const status = call ? mapTwilioCallStatus(providerStatus) : mapTwilioStatus(providerStatus);
    if (deliveryId === "" || sid === undefined) {
      res.writeHead(400).end();
      return;
    }
    if (status === undefined) {
      // A status we do not track (for example "receiving"): acknowledged and ignored.
      res.writeHead(204).end();
      return;
    }
    const errorCode = params.ErrorCode;
    try {
      await options.onStatus({
        deliveryId,
        channel: call ? "voice" : channelOf(params),
        providerMessageId: sid,
        status,
        providerStatus,
        ...(errorCode === undefined || errorCode === "" ? {} : { errorCode }),
        ...(call && status === "failed"
          ? { callFailureReason: callFailureReasons[providerStatus] ?? "PROVIDER_UNDELIVERED" }
          : {}),
      });
    } catch {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(204).end();
  };
}

function channelOf(params: Record<string, string>): "sms" | "whatsapp" {
  return (params.To ?? params.From ?? "").startsWith("whatsapp:") ? "whatsapp" : "sms";
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
