import {
  Channel,
  Code,
  createDeliveryClient,
  type DeliveryClient,
  DeliveryStatus,
  type NodeProtocol,
  OtpError,
} from "@otp/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import type { TwilioMessage } from "../fakes/twilio-fake.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { startTestServer } from "../support/test-server.js";

let fakes: ProviderFakes;
let server: RunningServer;
let delivery: DeliveryClient;

beforeAll(async () => {
  fakes = await startProviderFakes();
  server = await startTestServer(providerEnv(fakes), { watchPollMs: 20 });
  delivery = client("grpc");
});
afterAll(async () => {
  await server?.close();
  await fakes?.close();
});
beforeEach(() => fakes.reset());

function client(protocol: NodeProtocol, url = server.url): DeliveryClient {
  return createDeliveryClient({ baseUrl: url, protocol, retry: { maxAttempts: 1 } });
}

/** Sends an SMS and returns its delivery id and the message the Twilio fake holds. */
async function sendSms(): Promise<{ id: string; message: TwilioMessage }> {
  const { delivery: d } = await delivery.send({
    channel: Channel.SMS,
    recipient: "+14155552671",
    content: { case: "otp", value: { code: "493027", ttlSeconds: 60 } },
  });
  const message = fakes.twilio.messages.at(-1);
  if (d === undefined || message === undefined) throw new Error("nothing sent");
  return { id: d.id, message };
}

/** Posts a Twilio status callback to the service, signed for the public callback URL. */
function callback(
  message: TwilioMessage,
  status: string,
  options: { signWith?: string; errorCode?: string; tamper?: boolean } = {},
): Promise<number> {
  return fakes.twilio.postStatusCallback(message, status, { ...options, postTo: server.url });
}

async function historyOf(id: string): Promise<[DeliveryStatus, string][]> {
  const { delivery: d } = await delivery.getDelivery({ id });
  return (d?.history ?? []).map((e) => [e.status, e.reason]);
}

describe("Twilio status callbacks", () => {
  it("records a delivered report signed with the auth token", async () => {
    const { id, message } = await sendSms();
    expect(await callback(message, "sent")).toBe(204);
    expect(await callback(message, "delivered")).toBe(204);
    const { delivery: d } = await delivery.getDelivery({ id });
    expect(d?.status).toBe(DeliveryStatus.DELIVERED);
    expect(await historyOf(id)).toEqual([
      [DeliveryStatus.QUEUED, ""],
      [DeliveryStatus.QUEUED, ""],
      [DeliveryStatus.SENT, ""],
      [DeliveryStatus.DELIVERED, ""],
    ]);
  });

  it.each([
    ["signed with another token", { signWith: "0".repeat(32) }],
    ["changed after signing", { tamper: true }],
  ])("refuses a report %s, and records nothing", async (_name, options) => {
    const { id, message } = await sendSms();
    const before = await historyOf(id);
    expect(await callback(message, "undelivered", options)).toBe(403);
    expect(await historyOf(id)).toEqual(before);
  });

  it("refuses a report without a signature", async () => {
    const { id, message } = await sendSms();
    const url = new URL(message.statusCallback ?? "");
    const res = await fetch(`${server.url}${url.pathname}${url.search}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ MessageSid: message.sid, MessageStatus: "delivered" }),
    });
    expect(res.status).toBe(403);
    expect((await delivery.getDelivery({ id })).delivery?.status).toBe(DeliveryStatus.QUEUED);
  });

  it("records an undelivered report with a reason from Twilio's error code", async () => {
    const { id, message } = await sendSms();
    expect(await callback(message, "undelivered", { errorCode: "30003" })).toBe(204);
    expect((await historyOf(id)).at(-1)).toEqual([DeliveryStatus.FAILED, "RECIPIENT_UNREACHABLE"]);
  });

  it("ignores repeated and late reports: the furthest status stands", async () => {
    const { id, message } = await sendSms();
    await callback(message, "delivered");
    await callback(message, "delivered");
    await callback(message, "sent");
    const { delivery: d } = await delivery.getDelivery({ id });
    expect(d?.status).toBe(DeliveryStatus.DELIVERED);
    expect(d?.history.filter((e) => e.status === DeliveryStatus.DELIVERED)).toHaveLength(1);
    expect(d?.history.at(-1)?.status).toBe(DeliveryStatus.DELIVERED);
  });
});

describe("WatchDelivery", () => {
  for (const protocol of ["grpc", "grpc-web", "connect"] as const) {
    it(`streams past events, then new ones, and ends at delivered, over ${protocol}`, async () => {
      const { id, message } = await sendSms();
      const seen: DeliveryStatus[] = [];
      let pastArrived: () => void = () => {};
      const past = new Promise<void>((resolve) => {
        pastArrived = resolve;
      });
      const watching = (async () => {
        for await (const { event } of client(protocol).watchDelivery({ id })) {
          seen.push(event?.status ?? DeliveryStatus.UNSPECIFIED);
          if (seen.length === 2) pastArrived();
        }
      })();
      await past;
      expect(await callback(message, "sent")).toBe(204);
      expect(await callback(message, "delivered")).toBe(204);
      await watching;
      expect(seen).toEqual([
        DeliveryStatus.QUEUED,
        DeliveryStatus.QUEUED,
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
      ]);
    });
  }

  it("ends at once for a delivery nothing more can happen to", async () => {
    const { delivery: d } = await delivery.send({
      channel: Channel.EMAIL,
      recipient: "ada@example.com",
      content: { case: "text", value: "hello" },
    });
    const seen: DeliveryStatus[] = [];
    for await (const { event } of delivery.watchDelivery({ id: d?.id ?? "" })) {
      seen.push(event?.status ?? DeliveryStatus.UNSPECIFIED);
    }
    expect(seen).toEqual([DeliveryStatus.QUEUED, DeliveryStatus.SENT]);
  });

  it("answers not_found for an unknown delivery", async () => {
    const err = await (async () => {
      for await (const _ of delivery.watchDelivery({ id: crypto.randomUUID() })) {
        // nothing
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OtpError);
    expect([(err as OtpError).code, (err as OtpError).reason]).toEqual([
      Code.NotFound,
      "DELIVERY_NOT_FOUND",
    ]);
  });

  it("ends after DELIVERY_WATCH_MAX_SECONDS when the delivery stays open", async () => {
    const short = await startTestServer(
      { ...providerEnv(fakes), DELIVERY_WATCH_MAX_SECONDS: "1" },
      { watchPollMs: 20 },
    );
    try {
      const watcher = client("connect", short.url);
      const { delivery: d } = await watcher.send({
        channel: Channel.SMS,
        recipient: "+14155552671",
        content: { case: "text", value: "hello" },
      });
      const started = performance.now();
      let count = 0;
      for await (const _ of watcher.watchDelivery({ id: d?.id ?? "" })) count += 1;
      expect(count).toBe(2);
      expect(performance.now() - started).toBeGreaterThanOrEqual(900);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      await short.close();
    }
  });

  it("fails open watches with SHUTTING_DOWN when the server stops, so clients go elsewhere", async () => {
    const stopping = await startTestServer(providerEnv(fakes), { watchPollMs: 20 });
    const watcher = client("grpc", stopping.url);
    const { delivery: d } = await watcher.send({
      channel: Channel.SMS,
      recipient: "+14155552671",
      content: { case: "text", value: "hello" },
    });
    let count = 0;
    const watching = (async () => {
      for await (const _ of watcher.watchDelivery({ id: d?.id ?? "" })) {
        count += 1;
        if (count === 2) void stopping.close();
      }
    })().catch((e: unknown) => e);
    const err = await watching;
    expect(err).toBeInstanceOf(OtpError);
    expect([(err as OtpError).code, (err as OtpError).reason]).toEqual([
      Code.Unavailable,
      "SHUTTING_DOWN",
    ]);
    await stopping.close();
  });
});
