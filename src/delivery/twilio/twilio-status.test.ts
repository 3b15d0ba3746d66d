import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twilioSignature } from "../../../test/fakes/twilio-fake.js";
import {
  createTwilioStatusHandler,
  mapTwilioCallStatus,
  mapTwilioStatus,
  type TwilioStatusEvent,
  twilioStatusCallbackUrl,
  verifyTwilioSignature,
} from "./twilio-status.js";

const authToken = "0123456789abcdef0123456789abcdef";

describe("mapTwilioStatus", () => {
  it("maps Twilio's message statuses to ours", () => {
    const table: Record<string, string | undefined> = {
      accepted: "queued",
      scheduled: "queued",
      queued: "queued",
      sending: "queued",
      sent: "sent",
      delivered: "delivered",
      read: "delivered",
      undelivered: "failed",
      failed: "failed",
      canceled: "failed",
      receiving: undefined,
      received: undefined,
    };
    for (const [twilio, ours] of Object.entries(table)) expect(mapTwilioStatus(twilio)).toBe(ours);
  });
});

describe("mapTwilioCallStatus", () => {
  it("maps Twilio's call statuses to ours", () => {
    const table: Record<string, string | undefined> = {
      queued: "queued",
      initiated: "queued",
      ringing: "sent",
      "in-progress": "sent",
      completed: "delivered",
      busy: "failed",
      "no-answer": "failed",
      failed: "failed",
      canceled: "failed",
      answered: undefined,
    };
    for (const [twilio, ours] of Object.entries(table)) {
      expect(mapTwilioCallStatus(twilio)).toBe(ours);
    }
  });
});

describe("verifyTwilioSignature", () => {
  const url = "https://otp.example.com/twilio/status?delivery=d1";
  const params = { MessageSid: "SM1", MessageStatus: "delivered", To: "+34612345678" };

  it("accepts a signature made with the auth token over URL and parameters", () => {
    expect(
      verifyTwilioSignature(authToken, twilioSignature(authToken, url, params), url, params),
    ).toBe(true);
  });

  it("refuses a signature made with another token, another URL or other parameters", () => {
    const good = twilioSignature(authToken, url, params);
    expect(
      verifyTwilioSignature(authToken, twilioSignature("x".repeat(32), url, params), url, params),
    ).toBe(false);
    expect(verifyTwilioSignature(authToken, good, `${url}x`, params)).toBe(false);
    expect(
      verifyTwilioSignature(authToken, good, url, { ...params, MessageStatus: "failed" }),
    ).toBe(false);
    expect(verifyTwilioSignature(authToken, undefined, url, params)).toBe(false);
  });
});

describe("createTwilioStatusHandler", () => {
  // The public URL differs from where the server listens, as behind a proxy.
  const publicUrl = "https://otp.example.com/hooks/twilio-status";
  const events: TwilioStatusEvent[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const handler = createTwilioStatusHandler({
      authToken,
      publicUrl,
      onStatus: (event) => {
        events.push(event);
      },
    });
    server = createServer((req, res) => void handler(req, res));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    server.close();
    await once(server, "close");
  });

  const post = async (params: Record<string, string>, signature: string | undefined) => {
    const callbackUrl = twilioStatusCallbackUrl(publicUrl, "delivery-1");
    const local = `${base}/internal/twilio-status${new URL(callbackUrl).search}`;
    const response = await fetch(local, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(signature === undefined ? {} : { "x-twilio-signature": signature }),
      },
      body: new URLSearchParams(params).toString(),
    });
    return response.status;
  };
  const params = {
    MessageSid: "SMabc",
    MessageStatus: "undelivered",
    ErrorCode: "30003",
    To: "whatsapp:+34612345678",
    From: "whatsapp:+14155550100",
  };
  const signed = () =>
    twilioSignature(authToken, twilioStatusCallbackUrl(publicUrl, "delivery-1"), params);

  it("hands a correctly signed status to onStatus and answers 204", async () => {
    events.length = 0;
    expect(await post(params, signed())).toBe(204);
    expect(events).toEqual([
      {
        deliveryId: "delivery-1",
        channel: "whatsapp",
        providerMessageId: "SMabc",
        status: "failed",
        providerStatus: "undelivered",
        errorCode: "30003",
      },
    ]);
  });

  it("answers 403 to a bad, missing or tampered signature and records nothing", async () => {
    events.length = 0;
    const wrongToken = twilioSignature(
      "f".repeat(32),
      twilioStatusCallbackUrl(publicUrl, "delivery-1"),
      params,
    );
    expect(await post(params, wrongToken)).toBe(403);
    expect(await post(params, undefined)).toBe(403);
    expect(await post({ ...params, MessageStatus: "delivered" }, signed())).toBe(403);
    expect(events).toEqual([]);
  });

  it("tells a call's status by its CallSid, with the reason of a call nobody took", async () => {
    events.length = 0;
    const call = { CallSid: "CAabc", CallStatus: "busy", To: "+14155552671", From: "+14155550199" };
    const signature = twilioSignature(
      authToken,
      twilioStatusCallbackUrl(publicUrl, "delivery-1"),
      call,
    );
    expect(await post(call, signature)).toBe(204);
    expect(await post({ ...call, CallStatus: "completed" }, signature)).toBe(403);
    expect(events).toEqual([
      {
        deliveryId: "delivery-1",
        channel: "voice",
        providerMessageId: "CAabc",
        status: "failed",
        providerStatus: "busy",
        callFailureReason: "RECIPIENT_BUSY",
      },
    ]);
  });

  it("answers 405 to anything but POST", async () => {
    expect((await fetch(`${base}/x`)).status).toBe(405);
  });
});
