import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { isOtpError } from "../../src/core/otp-error.js";
import { newTenantScope } from "../../src/core/tenant-scope.js";
import { createDispatcher } from "../../src/delivery/dispatcher.js";
import { createOutboxChannel } from "../../src/delivery/outbox/outbox-channel.js";
import { type ChallengeService, createChallengeService } from "../../src/otp/challenge-service.js";
import { createCodeHasher } from "../../src/otp/code-hasher.js";
import type { GenerateInput } from "../../src/otp/validate.js";
import type { Store } from "../../src/store/store.js";
import { createTenantStore } from "../../src/store/tenant-store.js";
import { createFakeClock, type FakeClock } from "../support/fake-clock.js";
import type { StoreFactory } from "./store-contract.js";

const to = (recipient: string): GenerateInput => ({
  ttlSeconds: 0,
  maxAttempts: 3,
  codeLength: 0,
  alphabet: "numeric",
  binding: undefined,
  targets: [{ channel: "outbox", recipient, selfDestructSeconds: 0 }],
  idempotencyKey: "",
});

/**
 * Verify by recipient, driven through the OTP domain over the tenant-scoped
 * store: the latest challenge sent to a recipient is found through the keyed
 * index the create step maintains, with the attempt accounting of the id path.
 */
export function describeRecipientIndexContract(name: string, makeStore: StoreFactory): void {
  describe(`recipient index contract: ${name}`, () => {
    let clock: FakeClock;
    let store: Store;
    let service: ChallengeService;
    const opened: Store[] = [];

    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    beforeEach(async () => {
      clock = createFakeClock();
      const inner = await makeStore(clock);
      opened.push(inner);
      const stores = createTenantStore(inner);
      store = stores.unscoped;
      service = createChallengeService({
        store,
        scoped: stores.scoped,
        hasher: createCodeHasher(["r".repeat(32)]),
        dispatcher: createDispatcher({
          store,
          scoped: stores.scoped,
          now: clock.now,
          channels: [
            createOutboxChannel({ store, kind: "outbox", retentionMs: 60_000, now: clock.now }),
          ],
        }),
        resendCooldownSeconds: 30,
        maxSends: 3,
        retentionSeconds: 600,
        now: clock.now,
      });
    });

    const codeOf = async (id: string) => {
      const [message] = await store.listOutbox({ challengeId: id, limit: 5 }, clock.now());
      return /\b(\d{6})\b/.exec(message?.text ?? "")?.[1] ?? "";
    };
    // Each call carries its tenant's scope, as the auth interceptor gives it.
    const as = (tenantId: string) => ({ scope: newTenantScope(tenantId) });
    const generate = (input: Parameters<ChallengeService["generate"]>[0], tenantId = "ten_a") =>
      service.generate(input, as(tenantId));
    const get = (id: string, tenantId = "ten_a") => service.get(id, as(tenantId).scope);
    const verify = (input: Parameters<ChallengeService["verify"]>[0], tenantId = "ten_a") =>
      service.verify(input, as(tenantId));
    const byRecipient = (recipient: string, code: string, tenantId = "ten_a") =>
      verify({ id: "", recipient, channel: "outbox", code, binding: undefined }, tenantId);
    const reasonOf = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        if (isOtpError(err)) return err.reason;
        throw err;
      }
      return "no error";
    };

    it("verifies the latest challenge sent to a recipient, and names it", async () => {
      const older = await generate(to("jane@example.com"));
      const latest = await generate(to("jane@example.com"));
      const olderCode = await codeOf(older.id);
      const code = await codeOf(latest.id);
      if (olderCode !== code) {
        expect((await byRecipient("jane@example.com", olderCode)).outcome).toBe("invalid_code");
      }
      const result = await byRecipient("jane@example.com", code);
      expect(result).toMatchObject({ id: latest.id, outcome: "verified" });
      expect((await byRecipient("jane@example.com", code)).outcome).toBe("already_verified");
    });

    it("finds one mailbox under another spelling of it", async () => {
      const issued = await generate(to("jane@example.com"));
      const result = await byRecipient("Jane+shop@Example.com", await codeOf(issued.id));
      expect(result).toMatchObject({ id: issued.id, outcome: "verified" });
    });

    it("counts attempts as the id path does and then refuses the right code", async () => {
      const issued = await generate(to("max@example.com"));
      const code = await codeOf(issued.id);
      const wrong = code === "000000" ? "111111" : "000000";
      const remaining: number[] = [];
      for (let i = 0; i < 3; i++) {
        remaining.push((await byRecipient("max@example.com", wrong)).attemptsRemaining);
      }
      expect(remaining).toEqual([2, 1, 0]);
      expect((await byRecipient("max@example.com", code)).outcome).toBe("attempts_exhausted");
      expect((await get(issued.id)).attemptsRemaining).toBe(0);
    });

    it("answers an unknown recipient, and another tenant's, as not found", async () => {
      const issued = await generate(to("lee@example.com"));
      const code = await codeOf(issued.id);
      expect(await reasonOf(byRecipient("nobody@example.com", code))).toBe("CHALLENGE_NOT_FOUND");
      expect(await reasonOf(byRecipient("lee@example.com", code, "ten_b"))).toBe(
        "CHALLENGE_NOT_FOUND",
      );
      // Still pending for its own tenant: the other tenant's try changed nothing.
      expect((await get(issued.id)).attemptsRemaining).toBe(3);
    });

    it("refuses an id and a recipient together, and a recipient without a channel", async () => {
      const issued = await generate(to("kim@example.com"));
      const both = verify({
        id: issued.id,
        recipient: "kim@example.com",
        channel: "outbox",
        code: "123456",
        binding: undefined,
      });
      expect(await reasonOf(both)).toBe("VERIFY_SUBJECT_INVALID");
      const noChannel = verify({
        id: "",
        recipient: "kim@example.com",
        code: "123456",
        binding: undefined,
      });
      expect(await reasonOf(noChannel)).toBe("VERIFY_SUBJECT_INVALID");
    });

    it("answers expired after the code's lifetime, as the id path does", async () => {
      const issued = await generate(to("ana@example.com"));
      const code = await codeOf(issued.id);
      clock.advance(61_000);
      expect((await byRecipient("ana@example.com", code)).outcome).toBe("expired");
    });
  });
}
