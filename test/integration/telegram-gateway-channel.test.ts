import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Channel, OutgoingMessage } from "../../src/delivery/channel.js";
import { DeliveryError } from "../../src/delivery/delivery-error.js";
import { createDeliveryService } from "../../src/delivery/delivery-service.js";
import type { DeliveryRecord } from "../../src/delivery/delivery-store.js";
import { createDispatcher } from "../../src/delivery/dispatcher.js";
import type { RetryPolicy } from "../../src/delivery/retry.js";
import { createTelegramGatewayChannel } from "../../src/delivery/telegram-gateway/gateway-channel.js";
import { createGatewayClient } from "../../src/delivery/telegram-gateway/gateway-client.js";
import { withdrawDelivery } from "../../src/delivery/withdraw.js";
import { createCodeHasher } from "../../src/otp/code-hasher.js";
import { createMemoryDeliveries } from "../../src/store/memory/deliveries.js";
import { createMemoryState } from "../../src/store/memory/memory-state.js";
import { createMemoryStore } from "../../src/store/memory/memory-store.js";
import {
  startTelegramGatewayFake,
  type TelegramGatewayFake,
} from "../fakes/telegram-gateway-fake.js";

const fast: RetryPolicy = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 3000 };
const reachable = "+14155552671";
const unreachable = "+14155552672";
const callbackUrl = "https://otp.example.com/telegram-gateway/reports";
let fake: TelegramGatewayFake;

beforeAll(async () => {
  fake = await startTelegramGatewayFake();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => fake.reset());

function channel(token = fake.token): Channel {
  return createTelegramGatewayChannel({
    client: createGatewayClient({ token, baseUrl: fake.baseUrl, requestTimeoutMs: 2000 }),
    callbackUrl,
    phonePolicy: { allowedCountries: "all" },
    retry: fast,
  });
}

const codeMessage = (recipient: string, code = "493027"): OutgoingMessage => ({
  recipient,
  text: `Your code is ${code}`,
  challengeId: randomUUID(),
  selfDestructSeconds: 0,
  code: { code, ttlSeconds: 300 },
});

async function failure(p: Promise<unknown>): Promise<DeliveryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${err}`);
  return err;
}

describe("Telegram Gateway channel", () => {
  it("checks the number, then sends our code with the check's request id, ttl, callback and payload", async () => {
    fake.reachable.add(reachable);
    const deliveryId = randomUUID();
    const receipt = await channel().send(codeMessage(reachable), deliveryId);
    expect(fake.checks).toEqual([reachable]);
    expect(fake.sends).toEqual([
      {
        requestId: receipt?.providerMessageId,
        phoneNumber: reachable,
        code: "493027",
        ttl: 300,
        callbackUrl,
        payload: deliveryId,
        checked: true,
      },
    ]);
    expect(receipt).toMatchObject({ status: "sent" });
  });

  it("fails a number without a reachable account as RECIPIENT_UNREACHABLE, sending nothing", async () => {
    const err = await failure(channel().send(codeMessage(unreachable), randomUUID()));
    expect([err.reason, err.retryable, err.providerCode]).toEqual([
      "RECIPIENT_UNREACHABLE",
      false,
      "PHONE_NUMBER_NOT_FOUND",
    ]);
    expect(fake.checks).toEqual([unreachable]);
    expect(fake.sends).toEqual([]);
    // A refused number is not the provider's fault: the channel stays healthy.
    expect(await channel().healthy()).toBe(true);
  });

  it("fails with PROVIDER_AUTH_FAILED on a wrong token, without retrying", async () => {
    fake.reachable.add(reachable);
    const err = await failure(
      channel("wrong-token-0123456789").send(codeMessage(reachable), randomUUID()),
    );
    expect([err.reason, err.attempts]).toEqual(["PROVIDER_AUTH_FAILED", 1]);
    expect(fake.unauthorized).toBe(1);
    expect(err.message).not.toContain("wrong-token");
  });

  it("refuses codes the Gateway cannot carry before the paid check", async () => {
    fake.reachable.add(reachable);
    for (const message of [
      codeMessage(reachable, "AB12CD"),
      codeMessage(reachable, "1234567890"),
      { ...codeMessage(reachable), code: undefined },
    ]) {
      const err = await failure(channel().send(message, randomUUID()));
      expect(err.reason).toBe("CONTENT_NOT_SUPPORTED");
    }
    expect(fake.checks).toEqual([]);
  });

  it("keeps the ttl within the Gateway's 30..3600 seconds", async () => {
    fake.reachable.add(reachable);
    await channel().send(
      { ...codeMessage(reachable), code: { code: "1234", ttlSeconds: 5 } },
      randomUUID(),
    );
    await channel().send(
      { ...codeMessage(reachable), code: { code: "1234", ttlSeconds: 86_400 } },
      randomUUID(),
    );
    expect(fake.sends.map((s) => s.ttl)).toEqual([30, 3600]);
  });
});

describe("withdrawing a Gateway message", () => {
  async function sentDelivery(gateway: Channel) {
    const store = createMemoryDeliveries(createMemoryState());
    const id = randomUUID();
    const receipt = await gateway.send(codeMessage(reachable), id);
    const record: DeliveryRecord = {
      id,
      channel: "telegram_gateway",
      recipientMasked: "+1415*****71",
      challengeId: "",
      createdAtMs: Date.now(),
      deleteAtMs: 0,
      providerMessageId: receipt?.providerMessageId ?? "",
      idempotencyFingerprint: "",
      retainUntilMs: Date.now() + 60_000,
      events: [{ status: "sent", atMs: Date.now(), reason: "", attempt: 1 }],
    };
    await store.createDelivery(record);
    return { store, id, requestId: record.providerMessageId };
  }

  it("revokes the request and records a deleted event", async () => {
    fake.reachable.add(reachable);
    const gateway = channel();
    const { store, id, requestId } = await sentDelivery(gateway);
    const deps = { store, channels: () => [gateway], now: Date.now };
    expect(await withdrawDelivery(deps, id)).toEqual({ kind: "withdrawn" });
    expect(fake.revoked).toEqual([requestId]);
    const events = (await store.getDelivery(id, Date.now()))?.events ?? [];
    expect(events.at(-1)).toMatchObject({ status: "deleted", reason: "" });
    // Once withdrawn, there is nothing more to take back.
    expect(await withdrawDelivery(deps, id)).toEqual({ kind: "not_withdrawable" });
    expect(fake.revoked).toHaveLength(1);
  });

  it("leaves the delivery as it was when the Gateway refuses", async () => {
    fake.reachable.add(reachable);
    const gateway = channel();
    const { store, id } = await sentDelivery(gateway);
    const broken = channel("wrong-token-0123456789");
    const outcome = await withdrawDelivery({ store, channels: () => [broken], now: Date.now }, id);
    expect(outcome).toEqual({ kind: "failed", reason: "PROVIDER_AUTH_FAILED" });
    expect((await store.getDelivery(id, Date.now()))?.events).toHaveLength(1);
  });

  it("does nothing for a delivery over a channel that cannot withdraw", async () => {
    const store = createMemoryDeliveries(createMemoryState());
    const deps = { store, channels: () => [], now: Date.now };
    expect(await withdrawDelivery(deps, randomUUID())).toEqual({ kind: "not_withdrawable" });
  });
});

describe("DeliveryService.withdraw", () => {
  it("sends over the Gateway, then revokes the message and records it as deleted", async () => {
    fake.reachable.add(reachable);
    const store = createMemoryStore();
    const service = createDeliveryService({
      store,
      dispatcher: createDispatcher({ store, channels: [channel()] }),
      hasher: createCodeHasher(["k".repeat(32)]),
    });
    const sent = await service.send({
      channel: "telegram_gateway",
      recipient: "+1 415 555 2671",
      content: { kind: "otp", code: "493027", ttlSeconds: 120 },
      selfDestructSeconds: 0,
      idempotencyKey: "",
      locale: "",
    });
    expect(sent.status).toBe("sent");
    expect(fake.sends.map((x) => [x.code, x.payload])).toEqual([["493027", sent.id]]);
    expect(await service.withdraw(sent.id)).toEqual({ kind: "withdrawn" });
    expect(fake.revoked).toEqual([fake.sends[0]?.requestId]);
    const after = await service.get(sent.id);
    expect([after.status, after.history.map((e) => e.status)]).toEqual([
      "deleted",
      ["queued", "sent", "deleted"],
    ]);
  });
});
