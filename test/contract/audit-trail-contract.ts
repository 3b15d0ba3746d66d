import { describe, expect, it } from "vitest";
import type {
  AuditEntry,
  AuditInput,
  AuditRetention,
  AuditTrail,
} from "../../src/audit/audit-trail.js";
import { isOtpError } from "../../src/core/otp-error.js";

/** A trail under test, and a way to open another process's view of the same trail. */
export interface AuditTrailUnderTest {
  trail: AuditTrail;
  /** Another instance on the same storage, as a second replica would open it. */
  another: () => Promise<AuditTrail>;
}

const roomy: AuditRetention = { retentionMs: 86_400_000, maxEntries: 10_000 };

function input(overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    actor: { kind: "operator", id: "admin" },
    tenantId: "ten_a",
    action: "tenant.created",
    target: "ten_a",
    outcome: "success",
    requestId: "req-1",
    sourceAddress: "203.0.113.0/24",
    details: {},
    ...overrides,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The behaviour every {@link AuditTrail} shares; `make` gives a fresh, empty one. */
export function describeAuditTrailContract(
  name: string,
  make: (retention: AuditRetention) => Promise<AuditTrailUnderTest>,
): void {
  describe(`AuditTrail contract: ${name}`, () => {
    it("offers no way to change or remove an entry", async () => {
      const { trail } = await make(roomy);
      expect(Object.keys(trail).sort()).toEqual(["append", "claimOnce", "close", "list", "watch"]);
    });

    it("lists entries newest first, filtered by tenant, action prefix, actor and time", async () => {
      const { trail } = await make(roomy);
      const first = await trail.append(input());
      await sleep(5);
      const second = await trail.append(
        input({ action: "key.created", target: "otp_sk_11111111", tenantId: "ten_b" }),
      );
      await sleep(5);
      const third = await trail.append(
        input({ action: "key.revoked", actor: { kind: "api-key", id: "otp_sk_22222222" } }),
      );
      expect(first.id).toMatch(/^\d+-\d+$/);
      expect(third.timeMs).toBeGreaterThanOrEqual(first.timeMs);
      const ids = (entries: AuditEntry[]) => entries.map((e) => e.id);
      const all = await trail.list({}, { size: 10 });
      expect(ids(all.entries)).toEqual([third.id, second.id, first.id]);
      expect(all.nextCursor).toBeUndefined();
      expect(all.entries[2]).toEqual(first);
      expect(ids((await trail.list({ tenantId: "ten_a" }, { size: 10 })).entries)).toEqual([
        third.id,
        first.id,
      ]);
      expect(ids((await trail.list({ actionPrefix: "key." }, { size: 10 })).entries)).toEqual([
        third.id,
        second.id,
      ]);
      const byKey = await trail.list(
        { actorKind: "api-key", actorId: "otp_sk_22222222" },
        { size: 10 },
      );
      expect(ids(byKey.entries)).toEqual([third.id]);
      const window = await trail.list(
        { sinceMs: second.timeMs, untilMs: third.timeMs },
        { size: 10 },
      );
      expect(ids(window.entries)).toEqual([second.id]);
    });

    it("pages through every entry exactly once, in either order, with opaque cursors", async () => {
      const { trail } = await make(roomy);
      const made: string[] = [];
      for (let i = 0; i < 7; i++) made.push((await trail.append(input({ target: `t${i}` }))).id);
      for (const oldestFirst of [false, true]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await trail.list({}, { size: 3, cursor, oldestFirst });
          expect(page.entries.length).toBeLessThanOrEqual(3);
          seen.push(...page.entries.map((e) => e.id));
          cursor = page.nextCursor;
        } while (cursor !== undefined);
        expect(seen).toEqual(oldestFirst ? made : [...made].reverse());
      }
      const page = await trail.list({}, { size: 3 });
      const refused = await trail
        .list({}, { size: 3, cursor: page.nextCursor, oldestFirst: true })
        .catch((err: unknown) => err);
      expect(isOtpError(refused, "PAGE_TOKEN_INVALID")).toBe(true);
      const forged = await trail.list({}, { size: 3, cursor: "bm9wZQ" }).catch((err) => err);
      expect(isOtpError(forged, "PAGE_TOKEN_INVALID")).toBe(true);
    });

    it("cuts every field to its bound and keeps no control characters", async () => {
      const { trail } = await make(roomy);
      const details = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`k${i}`, "v".repeat(1000)]),
      );
      const stored = await trail.append(
        input({ target: `x\r\n${"y".repeat(1000)}`, action: "a".repeat(500), details }),
      );
      expect(stored.target.length).toBe(128);
      expect(stored.target.startsWith("x??")).toBe(true);
      expect(stored.action.length).toBe(64);
      expect(Object.keys(stored.details).length).toBe(8);
      expect(stored.details.k0?.length).toBe(200);
      const [listed] = (await trail.list({}, { size: 1 })).entries;
      expect(listed).toEqual(stored);
    });

    it("keeps at most maxEntries, dropping the oldest", async () => {
      const { trail } = await make({ retentionMs: 86_400_000, maxEntries: 3 });
      for (let i = 0; i < 5; i++) await trail.append(input({ target: `t${i}` }));
      const page = await trail.list({}, { size: 10 });
      expect(page.entries.map((e) => e.target)).toEqual(["t4", "t3", "t2"]);
    });

    it("drops entries older than the retention period", async () => {
      const { trail } = await make({ retentionMs: 300, maxEntries: 100 });
      await trail.append(input({ target: "old" }));
      await sleep(400);
      await trail.append(input({ target: "new" }));
      expect((await trail.list({}, { size: 10 })).entries.map((e) => e.target)).toEqual(["new"]);
      await sleep(400);
      expect((await trail.list({}, { size: 10 })).entries).toEqual([]);
    });

    it("grants a claim once per window, whichever replica asks", async () => {
      const { trail, another } = await make(roomy);
      const other = await another();
      const claims = await Promise.all([
        trail.claimOnce("key.used_after_revocation:otp_sk_1", 300),
        other.claimOnce("key.used_after_revocation:otp_sk_1", 300),
        trail.claimOnce("key.used_after_revocation:otp_sk_1", 300),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await other.claimOnce("key.used_after_revocation:otp_sk_2", 300)).toBe(true);
      await sleep(400);
      expect(await other.claimOnce("key.used_after_revocation:otp_sk_1", 300)).toBe(true);
    });

    it("streams entries another replica appends to a watcher, filtered, until it stops", async () => {
      const { trail, another } = await make(roomy);
      const writer = await another();
      await writer.append(input({ target: "before" }));
      const seen: AuditEntry[] = [];
      const stop = await trail.watch({ tenantId: "ten_a" }, (entry) => seen.push(entry));
      const appended = await writer.append(input({ target: "live" }));
      await writer.append(input({ tenantId: "ten_b", target: "other tenant" }));
      await expect.poll(() => seen.map((e) => e.target), { timeout: 3000 }).toEqual(["live"]);
      expect(seen[0]).toEqual(appended);
      stop();
      await writer.append(input({ target: "after" }));
      await sleep(300);
      expect(seen.map((e) => e.target)).toEqual(["live"]);
      if (writer !== trail) await writer.close();
      await trail.close();
    });
  });
}
