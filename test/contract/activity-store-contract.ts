import { describe, expect, it } from "vitest";
import { createActivityRecorder } from "../../src/activity/activity-recorder.js";
import { createActivityService } from "../../src/activity/activity-service.js";
import {
  type ActivityStore,
  bucketStart,
  hourMs,
  minuteMs,
} from "../../src/activity/activity-store.js";

/** Two handles on one fresh, empty activity store (two replicas' connections, or one process twice). */
export type ActivityStorePair = () => Promise<[ActivityStore, ActivityStore]>;

const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));
const asObject = (m: ReadonlyMap<string, number> | undefined) =>
  m === undefined ? undefined : Object.fromEntries(m);

/**
 * The behaviour every {@link ActivityStore} shares, with the recorder and the
 * service that read it: one suite, run against memory, a single Redis,
 * DB-index shards, URL shards and a Redis Cluster.
 */
export function describeActivityStoreContract(name: string, makePair: ActivityStorePair): void {
  describe(`ActivityStore contract: ${name}`, () => {
    // The hour before this one, so every minute of it is complete and kept.
    const hour = bucketStart("hour", Date.now()) - hourMs;

    it("adds counts to their minute bucket and to the hour holding it", async () => {
      const [store] = await makePair();
      await store.add(
        new Map([
          [hour + minuteMs, counts({ "g|t1|sms|US": 2, "g|t1|email|email": 1 })],
          [hour + 5 * minuteMs, counts({ "g|t1|sms|US": 3 })],
        ]),
      );
      const minutes = await store.read("minute", hour, hour + hourMs);
      expect(minutes.map((b) => b.startMs)).toEqual([hour + minuteMs, hour + 5 * minuteMs]);
      expect(asObject(minutes[0]?.counts)).toEqual({ "g|t1|sms|US": 2, "g|t1|email|email": 1 });
      const hours = await store.read("hour", hour, hour + hourMs);
      expect(hours).toHaveLength(1);
      expect(asObject(hours[0]?.counts)).toEqual({ "g|t1|sms|US": 5, "g|t1|email|email": 1 });
    });

    it("reads only buckets whose start is in the range asked for", async () => {
      const [store] = await makePair();
      await store.add(
        new Map([
          [hour, counts({ a: 1 })],
          [hour + minuteMs, counts({ a: 1 })],
          [hour + 2 * minuteMs, counts({ a: 1 })],
        ]),
      );
      const read = await store.read("minute", hour + 1, hour + 2 * minuteMs);
      expect(read.map((b) => b.startMs)).toEqual([hour + minuteMs]);
    });

    it("subtracts negative counts", async () => {
      const [store] = await makePair();
      await store.add(new Map([[hour, counts({ "e|t1": 3 })]]));
      await store.add(new Map([[hour, counts({ "e|t1": -2 })]]));
      const [bucket] = await store.read("minute", hour, hour + minuteMs);
      expect(bucket?.counts.get("e|t1")).toBe(1);
    });

    it("sums what two writers add to the same buckets", async () => {
      const [a, b] = await makePair();
      await Promise.all([
        a.add(new Map([[hour, counts({ "g|t1|sms|US": 4 })]])),
        b.add(new Map([[hour, counts({ "g|t1|sms|US": 6, "g|t2|sms|FR": 1 })]])),
      ]);
      const [minute] = await a.read("minute", hour, hour + minuteMs);
      expect(asObject(minute?.counts)).toEqual({ "g|t1|sms|US": 10, "g|t2|sms|FR": 1 });
      const [fromB] = await b.read("hour", hour, hour + 1);
      expect(fromB?.counts.get("g|t1|sms|US")).toBe(10);
    });

    it("puts a batch spanning an hour's turn into both hours", async () => {
      const [store] = await makePair();
      const last = hour - minuteMs;
      await store.add(
        new Map([
          [last, counts({ a: 1 })],
          [hour, counts({ a: 2 })],
        ]),
      );
      const hours = await store.read("hour", hour - hourMs, hour + hourMs);
      expect(hours.map((h) => [h.startMs, h.counts.get("a")])).toEqual([
        [hour - hourMs, 1],
        [hour, 2],
      ]);
    });

    it("forgets minute buckets after a day and hour buckets after 30 days", async () => {
      const [store] = await makePair();
      const old = bucketStart("hour", Date.now() - 25 * hourMs);
      const ancient = bucketStart("hour", Date.now() - 31 * 24 * hourMs);
      await store.add(
        new Map([
          [old, counts({ a: 1 })],
          [ancient, counts({ a: 1 })],
        ]),
      );
      expect(await store.read("minute", old, old + minuteMs)).toEqual([]);
      const kept = await store.read("hour", old, old + 1);
      expect(kept[0]?.counts.get("a")).toBe(1);
      expect(await store.read("hour", ancient, ancient + 1)).toEqual([]);
    });

    it("merges two replicas' recorders into one overview, by channel, country and tenant", async () => {
      const [a, b] = await makePair();
      const now = () => hour + 30 * minuteMs;
      const one = createActivityRecorder({ store: a, now, flushMs: 0 });
      const two = createActivityRecorder({ store: b, now, flushMs: 0 });
      const expiresAtMs = now() + 10 * minuteMs;
      const sms = { tenantId: "t1", channel: "sms", country: "US", expiresAtMs };
      const mail = { tenantId: "t2", channel: "email", country: "email", expiresAtMs };
      for (let i = 0; i < 3; i++) one.generated(sms);
      two.generated(mail);
      two.generated(mail);
      one.verified(sms, "verified");
      one.verified(sms, "invalid_code");
      two.verified(mail, "verified");
      two.verified(mail, "verified");
      one.rpc("t1", "otp.v1.OtpService/Generate", "ok", 0.004);
      two.rpc("t2", "otp.v1.OtpService/Generate", "ok", 0.02);
      two.rpc("t2", "otp.v1.OtpService/Verify", "invalid_argument", 0.002);
      one.rateLimited("t1", "generate_ip");
      two.delivery("t2", "email", "accepted");
      await Promise.all([one.flush(), two.flush()]);

      const service = createActivityService(a, now);
      const all = await service.overview("hour", undefined);
      expect(all).toMatchObject({
        generated: 5,
        verified: 3,
        conversion: 3 / 5,
        activeChallenges: 2,
        calls: 3,
        errors: 1,
        errorsByCode: { invalid_argument: 1 },
        rateLimitedByLimit: { generate_ip: 1 },
        verificationsByResult: { verified: 3, invalid_code: 1 },
        deliveries: [{ channel: "email", status: "accepted", count: 1 }],
      });
      expect(all.byChannel).toEqual([
        { key: "sms", generated: 3, verified: 1, conversion: 1 / 3 },
        { key: "email", generated: 2, verified: 2, conversion: 1 },
      ]);
      expect(all.byCountry.map((s) => s.key)).toEqual(["US", "email"]);
      expect(all.byTenant.map((s) => [s.key, s.verified])).toEqual([
        ["t1", 1],
        ["t2", 2],
      ]);
      expect(all.latencyP95Ms).toBe(25);

      const t1 = await service.overview("hour", "t1");
      expect(t1).toMatchObject({ generated: 3, verified: 1, activeChallenges: 2, calls: 1 });
      expect(t1.byTenant.map((s) => s.key)).toEqual(["t1"]);

      const series = await service.series("generated", "hour", "minute", undefined);
      expect(series).toHaveLength(60);
      expect(series.find((p) => p.startMs === hour + 30 * minuteMs)?.value).toBe(5);
      expect(series.reduce((n, p) => n + p.value, 0)).toBe(5);
    });
  });
}
