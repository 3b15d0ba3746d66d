import type { DeliveryRecord, DeliveryStore } from "../../delivery/delivery-store.js";
import type { RecipientCodec } from "./recipient-codec.js";
import { type RedisContext, type ScriptName, unavailable } from "./redis-context.js";

/** Deliveries: a hash and an event list each, sharing a hash tag, placed by a stable hash of the id; provider ids indexed by a keyed hash. */
export function createRedisDeliveries(ctx: RedisContext) {
  const { topology, keyPrefix, codec, run } = ctx;
  const deliveryClient = (id: string) => topology.forKey(`delivery:${id}`);
  const onDelivery = (id: string, script: ScriptName, args: string[]) =>
    run(deliveryClient(id), script, deliveryKeys(keyPrefix, id), args);
  const store: DeliveryStore = {
    async createDelivery(record: DeliveryRecord) {
      const [first, ...rest] = record.events;
      const reply = await onDelivery(record.id, "otpDeliveryCreate", [
        record.idempotencyFingerprint,
        String(record.retainUntilMs),
        JSON.stringify(
          first ?? { status: "queued", atMs: record.createdAtMs, reason: "", attempt: 0 },
        ),
        ...deliveryFields(record, codec),
      ]);
      if (reply[0] === "created") {
        for (const event of rest) await store.appendDeliveryEvent(record.id, event);
        return { kind: "created" };
      }
      if (reply[0] === "replay") {
        const existing = await store.getDelivery(record.id, record.createdAtMs);
        if (existing !== undefined) return { kind: "replay", record: existing };
      }
      return { kind: "conflict" };
    },
    async getDelivery(id: string, nowMs: number) {
      const [key, eventsKey] = deliveryKeys(keyPrefix, id);
      const client = deliveryClient(id);
      let fields: Record<string, string>;
      let events: string[];
      try {
        [fields, events] = await Promise.all([
          client.hgetall(key),
          client.lrange(eventsKey, 0, -1),
        ]);
      } catch (err) {
        throw unavailable(err);
      }
      if (Object.keys(fields).length === 0) return undefined;
      const record = deliveryFrom(id, fields, events, codec);
      return nowMs >= record.retainUntilMs ? undefined : record;
    },
    async appendDeliveryEvent(id, event, providerMessageId, deleteAtMs) {
      const [channel, retainUntil] = await onDelivery(id, "otpDeliveryEvent", [
        JSON.stringify(event),
        codec.sealProviderId(id, providerMessageId ?? ""),
        deleteAtMs === undefined || deleteAtMs <= 0 ? "" : String(Math.floor(deleteAtMs)),
      ]);
      if (channel === undefined) return false;
      if (providerMessageId !== undefined && providerMessageId !== "") {
        // A Telegram message id names its chat: the key carries a keyed hash of it.
        const indexKey = providerIndexKeys(ctx, channel, providerMessageId)[0] as string;
        try {
          await topology.forKey(indexKey).set(indexKey, id, "PXAT", Number(retainUntil));
        } catch (err) {
          throw unavailable(err);
        }
      }
      return true;
    },
    async findDeliveryByProviderId(channel, providerMessageId) {
      try {
        for (const indexKey of providerIndexKeys(ctx, channel, providerMessageId)) {
          const id = await topology.forKey(indexKey).get(indexKey);
          if (id !== null) return id;
        }
        return undefined;
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
  return store;
}

/** A delivery's hash and its event list, sharing the hash tag of its id. */
function deliveryKeys(keyPrefix: string, id: string): [string, string] {
  return [`${keyPrefix}delivery:{${id}}`, `${keyPrefix}delivery:{${id}}:events`];
}

/** The keys that point a provider's message id to its delivery: one per secret, the current (written) one first. */
function providerIndexKeys(
  ctx: Pick<RedisContext, "keyPrefix" | "vault">,
  channel: string,
  providerMessageId: string,
): string[] {
  return ctx.vault
    .indexes("provider-message", `${channel}:${providerMessageId}`)
    .map((hash) => `${ctx.keyPrefix}delivery-provider:${channel}:${hash}`);
}

/** A delivery as hash field and value pairs (its events live in their own list); the provider id sealed. */
function deliveryFields(record: DeliveryRecord, codec: RecipientCodec): string[] {
  return [
    "channel",
    record.channel,
    "recipient_masked",
    record.recipientMasked,
    "tenant",
    record.tenantId ?? "",
    "challenge_id",
    record.challengeId,
    "created_at",
    String(record.createdAtMs),
    "delete_at",
    String(record.deleteAtMs),
    "provider_id",
    codec.sealProviderId(record.id, record.providerMessageId),
    "idem_fp",
    record.idempotencyFingerprint,
    "retain_until",
    String(record.retainUntilMs),
  ];
}

/** A delivery read back from its hash and event list. */
function deliveryFrom(
  id: string,
  fields: Record<string, string>,
  events: string[],
  codec: RecipientCodec,
): DeliveryRecord {
  return {
    id,
    channel: (fields.channel ?? "outbox") as DeliveryRecord["channel"],
    ...(fields.tenant ? { tenantId: fields.tenant } : {}),
    recipientMasked: fields.recipient_masked ?? "",
    challengeId: fields.challenge_id ?? "",
    createdAtMs: Number(fields.created_at ?? "0"),
    deleteAtMs: Number(fields.delete_at ?? "0"),
    providerMessageId: codec.openProviderId(id, fields.provider_id ?? ""),
    idempotencyFingerprint: fields.idem_fp ?? "",
    retainUntilMs: Number(fields.retain_until ?? "0"),
    events: events.map((e) => JSON.parse(e)),
  };
}
