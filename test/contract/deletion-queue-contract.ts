import { describe, expect, it } from "vitest";
import type { DeletionItem, DeletionQueue } from "../../src/delivery/telegram/deletion-queue.js";

/** Makes two handles on one queue, as two instances of the service would have. */
export type DeletionQueuePair = () => Promise<{ a: DeletionQueue; b: DeletionQueue }>;

const item = (n: number): DeletionItem => ({
  chatId: String(1000 + n),
  messageId: n,
  deliveryId: `delivery-${n}`,
});

/**
 * The behaviour every {@link DeletionQueue} shares. `pair` gives two handles
 * on one fresh queue with a lease of `leaseMs`.
 */
export function describeDeletionQueueContract(
  name: string,
  leaseMs: number,
  pair: DeletionQueuePair,
): void {
  describe(`DeletionQueue contract: ${name}`, () => {
    const t0 = Date.now();

    it("claims only items that are due, oldest first", async () => {
      const { a } = await pair();
      await a.schedule(item(1), t0 + 2000);
      await a.schedule(item(2), t0 + 1000);
      await a.schedule(item(3), t0 + 9000);
      expect(await a.claimDue(t0, 10)).toEqual([]);
      expect(await a.claimDue(t0 + 2000, 10)).toEqual([item(2), item(1)]);
      expect(await a.size()).toBe(3);
    });

    it("claims at most the limit", async () => {
      const { a } = await pair();
      for (let i = 0; i < 5; i++) await a.schedule(item(i), t0 + i);
      expect(await a.claimDue(t0 + 10, 2)).toHaveLength(2);
      expect(await a.claimDue(t0 + 10, 10)).toHaveLength(3);
    });

    it("does not hand out a claimed item again while its lease runs", async () => {
      const { a, b } = await pair();
      await a.schedule(item(1), t0);
      expect(await a.claimDue(t0, 10)).toEqual([item(1)]);
      expect(await a.claimDue(t0 + 1, 10)).toEqual([]);
      expect(await b.claimDue(t0 + leaseMs - 1, 10)).toEqual([]);
    });

    it("returns an item whose claimer never completed it once the lease is over", async () => {
      const { a, b } = await pair();
      await a.schedule(item(1), t0);
      expect(await a.claimDue(t0, 10)).toEqual([item(1)]);
      // a "crashes" here; b finds the item again after the lease.
      expect(await b.claimDue(t0 + leaseMs, 10)).toEqual([item(1)]);
      await b.complete(item(1));
      expect(await a.claimDue(t0 + 10 * leaseMs, 10)).toEqual([]);
    });

    it("forgets a completed item", async () => {
      const { a } = await pair();
      await a.schedule(item(1), t0);
      await a.claimDue(t0, 10);
      await a.complete(item(1));
      expect(await a.size()).toBe(0);
      expect(await a.claimDue(t0 + 10 * leaseMs, 10)).toEqual([]);
    });

    it("makes a released item due again at the new time", async () => {
      const { a } = await pair();
      await a.schedule(item(1), t0);
      await a.claimDue(t0, 10);
      await a.release(item(1), t0 + 500);
      expect(await a.claimDue(t0 + 499, 10)).toEqual([]);
      expect(await a.claimDue(t0 + 500, 10)).toEqual([item(1)]);
    });

    it("moves an item scheduled twice instead of keeping two", async () => {
      const { a } = await pair();
      await a.schedule(item(1), t0 + 100);
      await a.schedule(item(1), t0 + 50);
      expect(await a.size()).toBe(1);
      expect(await a.claimDue(t0 + 50, 10)).toEqual([item(1)]);
    });

    it("gives each item to exactly one of two concurrent consumers", async () => {
      const { a, b } = await pair();
      const count = 200;
      await Promise.all(Array.from({ length: count }, (_, i) => a.schedule(item(i), t0 + i)));
      const claimed: DeletionItem[] = [];
      const consume = async (queue: DeletionQueue) => {
        for (;;) {
          const batch = await queue.claimDue(t0 + count, 7);
          if (batch.length === 0) return;
          claimed.push(...batch);
        }
      };
      await Promise.all([consume(a), consume(b), consume(a), consume(b)]);
      expect(claimed).toHaveLength(count);
      expect(new Set(claimed.map((c) => c.messageId)).size).toBe(count);
    });
  });
}
