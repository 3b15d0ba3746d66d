import { createHmac, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  delay,
  dropConnection,
  FailureQueue,
  listenFake,
  readText,
  sendJson,
} from "./http-fake.js";

/** A failure the fake answers a Messages API call with. */
export type TwilioFailure =
  /** 400, Twilio error 21211: the 'To' number is not valid. */
  | { kind: "invalid_number" }
  /** 400, Twilio error 21610: the recipient replied STOP. */
  | { kind: "unsubscribed" }
  /** 429, Twilio error 20429. */
  | { kind: "rate_limit" }
  /** 500 with Twilio's JSON error body. */
  | { kind: "server_error" }
  /** 503 with a plain-text body, as a load balancer would answer. */
  | { kind: "unavailable_text" }
  | { kind: "drop" }
  /** Answered normally, but only after `ms`. */
  | { kind: "slow"; ms: number };

/** One message the fake accepted. */
export interface TwilioMessage {
  sid: string;
  to: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string | undefined;
  contentSid: string | undefined;
  contentVariables: string | undefined;
  statusCallback: string | undefined;
  validityPeriod: string | undefined;
}

/** One call the fake accepted. */
export interface TwilioCall {
  sid: string;
  to: string;
  from: string;
  /** The inline TwiML the call plays. */
  twiml: string;
  statusCallback: string | undefined;
  statusCallbackEvents: string[];
}

/** A local server speaking Twilio's Messages API, for the SDK's `RequestClient`. */
export interface TwilioFake {
  /** The base URL to rewrite Twilio's origin to. */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** Messages accepted, in order. */
  messages: TwilioMessage[];
  /** Every request to the Messages endpoint, failed ones included. */
  requests: number;
  /** Calls accepted by the Calls endpoint, in order. */
  calls: TwilioCall[];
  /**
   * Posts a call status callback for `call` to its StatusCallback, signed
   * with the auth token (or `signWith`); `postTo` as for messages. Resolves
   * with the HTTP status.
   */
  postCallStatus(
    call: TwilioCall,
    status: string,
    options?: { signWith?: string; postTo?: string },
  ): Promise<number>;
  /** Answers the next `times` requests with `failure`. */
  fail(failure: TwilioFailure, times?: number): void;
  /**
   * Posts a status callback for `message` to `url` (the message's
   * StatusCallback, by default), signed with the auth token the way Twilio
   * signs it, or with `signWith` instead. `postTo` sends the signed request
   * to another origin, as a proxy in front of the service would forward it.
   * Resolves with the HTTP status.
   */
  postStatusCallback(
    message: TwilioMessage,
    status: string,
    options?: {
      url?: string;
      signWith?: string;
      errorCode?: string;
      tamper?: boolean;
      postTo?: string;
    },
  ): Promise<number>;
  /** Forgets queued failures and recorded calls, between tests. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * Twilio's request signature: base64 HMAC-SHA1, keyed by the auth token, of
 * the URL followed by each form parameter's name and value, sorted by name.
 * Written here from Twilio's documentation rather than taken from the SDK, so
 * the tests check the SDK's `validateRequest` against an independent signer.
 */
export function twilioSignature(
  authToken: string,
  url: string,
  params: Record<string, string>,
): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

/** Starts a {@link TwilioFake} on 127.0.0.1. */
export async function startTwilioFake(
  accountSid = `AC${randomBytes(16).toString("hex")}`,
  authToken = randomBytes(16).toString("hex"),
): Promise<TwilioFake> {
  const messages: TwilioMessage[] = [];
  const calls: TwilioCall[] = [];
  const failures = new FailureQueue<TwilioFailure>();
  let requests = 0;
  const path = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
  const callsPath = `/2010-04-01/Accounts/${accountSid}/Calls.json`;

  const error = (res: ServerResponse, status: number, code: number, message: string) =>
    sendJson(res, status, {
      code,
      message,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status,
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readText(req);
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "POST" && url.pathname === callsPath) return handleCall(req, raw, res);
    if (req.method !== "POST" || url.pathname !== path) {
      return error(res, 404, 20404, "The requested resource was not found");
    }
    requests += 1;
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
    if (req.headers.authorization !== expected) return error(res, 401, 20003, "Authenticate");
    if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      return error(res, 400, 20001, "Expected a form body");
    }
    const form = new URLSearchParams(raw);
    const to = form.get("To") ?? "";

    const failure = failures.take("messages");
    switch (failure?.kind) {
      case undefined:
        break;
      case "invalid_number":
        // Twilio quotes the number in its message; the adapter must not pass it on.
        return error(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      case "unsubscribed":
        return error(res, 400, 21610, `Attempt to send to unsubscribed recipient ${to}`);
      case "rate_limit":
        return error(res, 429, 20429, "Too Many Requests");
      case "server_error":
        return error(res, 500, 20500, "Internal Server Error");
      case "unavailable_text":
        res.writeHead(503, { "content-type": "text/plain" });
        res.end("Service Unavailable");
        return;
      case "drop":
        return dropConnection(req);
      case "slow":
        await delay(failure.ms, res);
        if (res.destroyed) return;
        break;
    }

    if (to === "") return error(res, 400, 21604, "A 'To' phone number is required.");
    if (!form.has("From") && !form.has("MessagingServiceSid")) {
      return error(res, 400, 21603, "A 'From' phone number is required.");
    }
    if (!form.has("Body") && !form.has("ContentSid")) {
      return error(res, 400, 21602, "Message body is required.");
    }
    const message: TwilioMessage = {
      sid: `SM${randomBytes(16).toString("hex")}`,
      to,
      from: form.get("From") ?? undefined,
      messagingServiceSid: form.get("MessagingServiceSid") ?? undefined,
      body: form.get("Body") ?? undefined,
      contentSid: form.get("ContentSid") ?? undefined,
      contentVariables: form.get("ContentVariables") ?? undefined,
      statusCallback: form.get("StatusCallback") ?? undefined,
      validityPeriod: form.get("ValidityPeriod") ?? undefined,
    };
    messages.push(message);
    const now = new Date().toUTCString();
    sendJson(res, 201, {
      sid: message.sid,
      account_sid: accountSid,
      api_version: "2010-04-01",
      body: message.body ?? "",
      date_created: now,
      date_updated: now,
      date_sent: null,
      direction: "outbound-api",
      error_code: null,
      error_message: null,
      from: message.from ?? null,
      messaging_service_sid: message.messagingServiceSid ?? null,
      num_media: "0",
      num_segments: "1",
      price: null,
      price_unit: "USD",
      status: "queued",
      subresource_uris: { media: `${path.replace(".json", "")}/${message.sid}/Media.json` },
      to,
      uri: `${path.replace(".json", "")}/${message.sid}.json`,
    });
  };

  // POST .../Calls.json: a call with inline TwiML (form-encoded To, From, Twiml, StatusCallback...).
  const handleCall = (req: IncomingMessage, raw: string, res: ServerResponse) => {
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
    if (req.headers.authorization !== expected) return error(res, 401, 20003, "Authenticate");
    const form = new URLSearchParams(raw);
    const to = form.get("To") ?? "";
    const from = form.get("From") ?? "";
    const twiml = form.get("Twiml") ?? "";
    if (to === "" || from === "") return error(res, 400, 21201, "To and From are required.");
    if (twiml === "" && !form.has("Url")) return error(res, 400, 21205, "Url or Twiml required.");
    const call: TwilioCall = {
      sid: `CA${randomBytes(16).toString("hex")}`,
      to,
      from,
      twiml,
      statusCallback: form.get("StatusCallback") ?? undefined,
      statusCallbackEvents: form.getAll("StatusCallbackEvent"),
    };
    calls.push(call);
    const now = new Date().toUTCString();
    sendJson(res, 201, {
      sid: call.sid,
      account_sid: accountSid,
      api_version: "2010-04-01",
      date_created: now,
      date_updated: now,
      direction: "outbound-api",
      from,
      to,
      status: "queued",
      uri: `${callsPath.replace(".json", "")}/${call.sid}.json`,
    });
  };

  const fake = await listenFake(handle);
  return {
    baseUrl: fake.url,
    accountSid,
    authToken,
    messages,
    calls,
    async postCallStatus(call, status, options = {}) {
      const url = call.statusCallback;
      if (url === undefined) throw new Error("the call has no status callback URL");
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: "2010-04-01",
        CallSid: call.sid,
        CallStatus: status,
        Direction: "outbound-api",
        From: call.from,
        To: call.to,
      };
      const signature = twilioSignature(options.signWith ?? authToken, url, params);
      const signed = new URL(url);
      const target =
        options.postTo === undefined
          ? url
          : `${options.postTo.replace(/\/+$/, "")}${signed.pathname}${signed.search}`;
      const response = await fetch(target, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": signature,
        },
        body: new URLSearchParams(params).toString(),
      });
      await response.arrayBuffer();
      return response.status;
    },
    get requests() {
      return requests;
    },
    fail: (failure, times = 1) => failures.add("messages", failure, times),
    async postStatusCallback(message, status, options = {}) {
      const url = options.url ?? message.statusCallback;
      if (url === undefined) throw new Error("the message has no status callback URL");
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: "2010-04-01",
        From: message.from ?? "",
        MessageSid: message.sid,
        MessageStatus: status,
        SmsSid: message.sid,
        SmsStatus: status,
        To: message.to,
        ...(options.errorCode === undefined ? {} : { ErrorCode: options.errorCode }),
      };
      const signature = twilioSignature(options.signWith ?? authToken, url, params);
      // A tampered callback changes a parameter after signing.
      const sent = options.tamper === true ? { ...params, MessageStatus: "delivered" } : params;
      const target =
        options.postTo === undefined
          ? url
          : (() => {
              const signed = new URL(url);
              return `${options.postTo.replace(/\/+$/, "")}${signed.pathname}${signed.search}`;
            })();
      const response = await fetch(target, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": signature,
        },
        body: new URLSearchParams(sent).toString(),
      });
      await response.arrayBuffer();
      return response.status;
    },
    reset() {
      failures.clear();
      messages.length = 0;
      calls.length = 0;
      requests = 0;
    },
    close: () => fake.close(),
  };
}
