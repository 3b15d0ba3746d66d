import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type {
  ConsoleSessionRecord,
  ConsoleSessionStore,
} from "../../src/tenancy/console-session-store.js";

const hash = () => randomBytes(32).toString("hex");

function record(overrides: Partial<ConsoleSessionRecord> = {}): ConsoleSessionRecord {
  const now = Date.now();
  return {
    kind: "tenant",
    tenantId: "ten_a",
    keyId: "otp_sk_0123abcd",
    keyHash: "f".repeat(64),
    createdAtMs: now,
    expiresAtMs: now + 3_600_000,
    ...overrides,
  };
}

/** The behaviour every {@link ConsoleSessionStore} shares; `make` gives a fresh one. */
export function describeConsoleSessionContract(
  name: string,
  make: () => Promise<ConsoleSessionStore>,
): void {
  describe(`ConsoleSessionStore contract: ${name}`, () => {
    it("finds a session by the hash of its id and returns its record", async () => {
      const sessions = await make();
      const id = hash();
      const made = record();
      await sessions.create(id, made, 60_000);
      expect(await sessions.touch(id, Date.now(), 60_000)).toEqual(made);
      expect(await sessions.touch(hash(), Date.now(), 60_000)).toBeUndefined();
    });

    it("keeps an operator session apart from a tenant's", async () => {
      const sessions = await make();
      const operator = hash();
      const tenant = hash();
      await sessions.create(
        operator,
        record({ kind: "operator", tenantId: "", keyId: "admin", keyHash: "" }),
        60_000,
      );
      await sessions.create(tenant, record(), 60_000);
      expect((await sessions.touch(operator, Date.now(), 60_000))?.kind).toBe("operator");
      expect((await sessions.touch(tenant, Date.now(), 60_000))?.tenantId).toBe("ten_a");
    });

    it("ends a session left idle longer than its idle time", async () => {
      const sessions = await make();
      const id = hash();
      await sessions.create(id, record(), 300);
      await new Promise((resolve) => setTimeout(resolve, 150));
      // A use moves the idle end on.
      expect(await sessions.touch(id, Date.now(), 300)).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await sessions.touch(id, Date.now(), 300)).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 450));
      expect(await sessions.touch(id, Date.now(), 300)).toBeUndefined();
    });

    it("ends a session at its absolute end, however it is used", async () => {
      const sessions = await make();
      const id = hash();
      const made = record({ expiresAtMs: Date.now() + 60_000 });
      await sessions.create(id, made, 3_600_000);
      expect(await sessions.touch(id, made.expiresAtMs - 1, 3_600_000)).toBeDefined();
      expect(await sessions.touch(id, made.expiresAtMs, 3_600_000)).toBeUndefined();
      // Once ended it stays ended, even for a clock read earlier.
      expect(await sessions.touch(id, Date.now(), 3_600_000)).toBeUndefined();
    });

    it("never lets a use stretch a session past its absolute end", async () => {
      const sessions = await make();
      const id = hash();
      await sessions.create(id, record({ expiresAtMs: Date.now() + 400 }), 60_000);
      expect(await sessions.touch(id, Date.now(), 60_000)).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await sessions.touch(id, Date.now(), 60_000)).toBeUndefined();
    });

    it("deletes a session once", async () => {
      const sessions = await make();
      const id = hash();
      await sessions.create(id, record(), 60_000);
      expect(await sessions.delete(id)).toBe(true);
      expect(await sessions.delete(id)).toBe(false);
      expect(await sessions.touch(id, Date.now(), 60_000)).toBeUndefined();
    });
  });
}
