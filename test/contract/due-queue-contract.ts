import { describe, expect, it } from "vitest";
import type { ClaimedItem, DueQueue } from "../../src/events/due-queue.js";

/** Makes two handles on one fresh queue, as two replicas of the service would have. */
export type DueQueuePair = () => Promise<{ a: DueQueue; b: DueQueue }>;

const item = (n: number, dueMs: number) => ({ id: `m${n}`, body: `{"n":${n}}`, dueMs });
const ids = (claimed: ClaimedItem[]) => claimed.map((c) => c.id);

/**
 * The behaviour every {@link DueQueue} shares (webhook messages, expiry
 * timers): claims exactly once under concurrency, a lapsed lease hands the
 * item out again with the next claim number and fences the first claimer,
 * completed items are kept for replay. `pair` gives two handles on one fresh
 * queue with a lease of `leaseMs`.
 */
export function describeDueQueueContract(name: string, leaseMs: number, pair: DueQueuePair): void {
  describe(`DueQueue contract: ${name}`, () => {
    const t0 = Date.now();

    it("claims only due items, oldest first, at most the limit", async () => {
      const { a } = await pair();
      await a.add([item(1, t0 + 2000), item(2, t0 + 1000), item(3, t0 + 9000)], t0);
      expect(await a.claim(t0, 10)).toEqual([]);
      expect(ids(await a.claim(t0 + 2000, 1))).toEqual(["m2"]);
      expect(ids(await a.claim(t0 + 2000, 10))).toEqual(["m1"]);
      expect(await a.size()).toBe(3);
    });

    it("hands out bodies, claim numbers from 1 and the time the item was added", async () => {
      const { a } = await pair();
      await a.add([item(1, t0)], t0 - 5);
      expect(await a.claim(t0, 10)).toEqual([
        { id: "m1", body: '{"n":1}', claim: 1, sinceMs: t0 - 5 },
      ]);
    });

    it("keeps an item's place and body when it is added again while queued", async () => {
      const { a } = await pair();
      await a.add([item(1, t0)], t0);
      await a.add([{ id: "m1", body: "other", dueMs: t0 + 5000 }], t0);
      const [claimed] = await a.claim(t0, 10);
      expect(claimed?.body).toBe('{"n":1}');
    });

    it("gives each item to exactly one of two concurrent claimers", async () => {
      const { a, b } = await pair();
      const count = 150;
      await a.add(
        Array.from({ length: count }, (_, i) => item(i, t0 + i)),
        t0,
      );
      const claimed: ClaimedItem[] = [];
      const consume = async (queue: DueQueue) => {
        for (;;) {
          const batch = await queue.claim(t0 + count, 7);
          if (batch.length === 0) return;
          claimed.push(...batch);
        }
      };
      await Promise.all([consume(a), consume(b), consume(a), consume(b)]);
      expect(claimed).toHaveLength(count);
      expect(new Set(ids(claimed)).size).toBe(count);
    });

    it("hands an item out again after a lapsed lease, and fences the first claimer", async () => {
      const { a, b } = await pair();
      await a.add([item(1, t0)], t0);
      const [first] = await a.claim(t0, 10);
      expect(await b.claim(t0 + leaseMs - 1, 10)).toEqual([]);
      const [second] = await b.claim(t0 + leaseMs, 10);
      expect(second?.claim).toBe(2);
      // The first claimer comes back late: its claim is stale and changes nothing.
      expect(await a.complete("m1", first?.claim ?? 0, t0 + leaseMs, 0)).toBe(false);
      expect(await a.retry("m1", first?.claim ?? 0, t0)).toBe(false);
      expect(await b.complete("m1", 2, t0 + leaseMs, 0)).toBe(true);
      expect(await a.size()).toBe(0);
      expect(await a.claim(t0 + 10 * leaseMs, 10)).toEqual([]);
    });

    it("makes a retried item due at the new time with the next claim number", async () => {
      const { a } = await pair();
      await a.add([item(1, t0)], t0);
      await a.claim(t0, 10);
      expect(await a.retry("m1", 1, t0 + 500)).toBe(true);
      expect(await a.claim(t0 + 499, 10)).toEqual([]);
      const [again] = await a.claim(t0 + 500, 10);
      expect(again).toMatchObject({ id: "m1", claim: 2, sinceMs: t0 });
    });

    it("keeps a completed item readable and replayable, with its id", async () => {
      const { a, b } = await pair();
      await a.add([item(1, t0)], t0);
      await a.claim(t0, 10);
      expect(await a.complete("m1", 1, t0, 60_000)).toBe(true);
      expect(await a.size()).toBe(0);
      expect(await b.get("m1")).toBe('{"n":1}');
      expect(await b.claim(t0 + 1000, 10)).toEqual([]);
      expect(await b.replay("m1", t0 + 1000)).toBe(true);
      expect(await a.replay("m1", t0 + 1000)).toBe(false);
      const [replayed] = await a.claim(t0 + 1000, 10);
      expect(replayed).toEqual({ id: "m1", body: '{"n":1}', claim: 1, sinceMs: t0 + 1000 });
    });

    it("forgets a completed item without a keep time, and refuses to replay it", async () => {
      const { a } = await pair();
      await a.add([item(1, t0)], t0);
      await a.claim(t0, 10);
      await a.complete("m1", 1, t0, 0);
      expect(await a.get("m1")).toBeUndefined();
      expect(await a.replay("m1", t0)).toBe(false);
    });

    it("refuses to replay an item that is still queued", async () => {
      const { a } = await pair();
      await a.add([item(1, t0)], t0);
      expect(await a.replay("m1", t0)).toBe(false);
    });
  });
}
