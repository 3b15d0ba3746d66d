import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createCodeSeal } from "../../src/core/code-seal.js";
import { isOtpError } from "../../src/core/otp-error.js";
import { createDispatcher } from "../../src/delivery/dispatcher.js";
import { createOutboxChannel } from "../../src/delivery/outbox/outbox-channel.js";
import { type ChallengeService, createChallengeService } from "../../src/otp/challenge-service.js";
import { createCodeHasher } from "../../src/otp/code-hasher.js";
import type { GenerateInput } from "../../src/otp/validate.js";
import type { LimitCharge, Store } from "../../src/store/store.js";
import { type EffectiveSettings, effectiveSettings } from "../../src/tenancy/effective-settings.js";
import { emptySettings } from "../../src/tenancy/tenant-settings.js";
import { createFakeClock, type FakeClock } from "../support/fake-clock.js";
import { sampleChallenge } from "../support/sample-challenge.js";

const base: GenerateInput = {
  ttlSeconds: 0,
  maxAttempts: 0,
  codeLength: 0,
  alphabet: "numeric",
  binding: undefined,
  targets: [],
  idempotencyKey: "",
};

/** Makes a fresh, empty store for one test; `clock` is the time the service will pass in. */
export type StoreFactory = (clock: FakeClock) => Promise<Store>;

/**
 * The behaviour every store must show, driven through the OTP domain: one
 * suite, run against memory, a single Redis, DB-index shards, URL shards and
 * a Redis Cluster.
 */
export function describeStoreContract(name: string, makeStore: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    let clock: FakeClock;
    let store: Store;
    let service: ChallengeService;
    const opened: Store[] = [];

    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    function build(secrets = ["k".repeat(32)], resend: { newCodePerSend?: boolean } = {}) {
      return createChallengeService({
        codeSeal: createCodeSeal(secrets),
        ...resend,
        store,
        hasher: createCodeHasher(secrets),
        dispatcher: createDispatcher({
          store,
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
    }

    async function reasonOf(p: Promise<unknown>): Promise<string> {
      try {
        await p;
      } catch (err) {
        if (isOtpError(err)) return err.reason;
        throw err;
      }
      return "no error";
    }

    function wrong(code: string): string {
      return code === "000000" ? "111111" : "000000";
    }

    beforeEach(async () => {
      clock = createFakeClock();
      store = await makeStore(clock);
      opened.push(store);
      service = build();
    });

    describe("generate", () => {
      it("issues a UUID v4 and a six-digit code that expires after 60 s by default", async () => {
        const issued = await service.generate(base);
        expect(issued.id).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );
        expect(issued.code).toMatch(/^\d{6}$/);
        expect(issued.expiresAtMs - clock.now()).toBe(60_000);
      });

      it("keeps only an HMAC of the code in the store", async () => {
        const issued = await service.generate({ ...base, codeLength: 10 });
        const record = await store.getChallenge(issued.id, clock.now());
        expect(JSON.stringify(record)).not.toContain(issued.code);
      });

      it.each([
        [{ ttlSeconds: 3601 }, "TTL_INVALID"],
        [{ ttlSeconds: -1 }, "TTL_INVALID"],
        [{ maxAttempts: 61 }, "MAX_ATTEMPTS_INVALID"],
        [{ codeLength: 3 }, "CODE_LENGTH_INVALID"],
        [{ codeLength: 11 }, "CODE_LENGTH_INVALID"],
        [{ alphabet: "invalid" as const }, "ALPHABET_INVALID"],
        [{ binding: { blob: "x".repeat(5000) } }, "BINDING_TOO_LARGE"],
        [{ idempotencyKey: "é" }, "IDEMPOTENCY_KEY_INVALID"],
        [
          { targets: [{ channel: "invalid" as const, recipient: "x", selfDestructSeconds: 0 }] },
          "CHANNEL_INVALID",
        ],
        [
          { targets: [{ channel: "outbox" as const, recipient: "", selfDestructSeconds: 0 }] },
          "RECIPIENT_INVALID",
        ],
        [
          { targets: [{ channel: "sms" as const, recipient: "+1415", selfDestructSeconds: 0 }] },
          "RECIPIENT_INVALID",
        ],
        [
          { targets: [{ channel: "outbox" as const, recipient: "a", selfDestructSeconds: 10 }] },
          "SELF_DESTRUCT_INVALID",
        ],
        [
          {
            targets: [
              { channel: "sms" as const, recipient: "+14155550100", selfDestructSeconds: 0 },
            ],
          },
          "CHANNEL_NOT_CONFIGURED",
        ],
        [
          {
            targets: Array.from({ length: 6 }, () => ({
              channel: "outbox" as const,
              recipient: "a",
              selfDestructSeconds: 0,
            })),
          },
          "DELIVERY_TARGETS_TOO_MANY",
        ],
      ])("refuses %o with %s, never clamping", async (patch, reason) => {
        expect(await reasonOf(service.generate({ ...base, ...patch }))).toBe(reason);
      });

      it("sends the code instead of returning it when a target is given", async () => {
        const issued = await service.generate({
          ...base,
          targets: [{ channel: "outbox", recipient: "dev@example.com", selfDestructSeconds: 0 }],
        });
        expect(issued.code).toBe("");
        expect(issued.deliveryId).not.toBe("");
        const [message] = await store.listOutbox({ challengeId: issued.id, limit: 5 }, clock.now());
        const code = /\b(\d{6})\b/.exec(message?.text ?? "")?.[1] ?? "";
        expect((await service.verify({ id: issued.id, code, binding: undefined })).outcome).toBe(
          "verified",
        );
      });

      it("keeps the challenge's language for its messages, and records the delivery", async () => {
        const issued = await service.generate({
          ...base,
          locale: "es",
          targets: [{ channel: "outbox", recipient: "dev@example.com", selfDestructSeconds: 0 }],
        });
        expect((await store.getChallenge(issued.id, clock.now()))?.locale).toBe("es");
        const [message] = await store.listOutbox({ challengeId: issued.id, limit: 5 }, clock.now());
        expect(message?.text).toMatch(/^Tu código de verificación es \d{6}\./);
        const delivery = await store.getDelivery(issued.deliveryId, clock.now());
        expect(delivery?.events.map((e) => e.status)).toEqual(["queued", "sent"]);
        expect(delivery?.challengeId).toBe(issued.id);
      });

      it("answers a repeated idempotency key with the same challenge and a working code", async () => {
        const first = await service.generate({ ...base, idempotencyKey: "order-1" });
        const again = await service.generate({ ...base, idempotencyKey: "order-1" });
        expect(again.id).toBe(first.id);
        expect(
          (await service.verify({ id: first.id, code: again.code, binding: undefined })).outcome,
        ).toBe("verified");
        expect(
          await reasonOf(service.generate({ ...base, ttlSeconds: 120, idempotencyKey: "order-1" })),
        ).toBe("IDEMPOTENCY_KEY_CONFLICT");
      });
    });

    describe("verify", () => {
      it("verifies the right code exactly once", async () => {
        const { id, code } = await service.generate(base);
        const first = await service.verify({ id, code, binding: undefined });
        expect(first).toMatchObject({ outcome: "verified", status: "verified" });
        expect(first.verifiedAtMs).toBe(clock.now());
        expect((await service.verify({ id, code, binding: undefined })).outcome).toBe(
          "already_verified",
        );
      });

      it("counts each wrong code and then refuses even the right one", async () => {
        const { id, code } = await service.generate({ ...base, maxAttempts: 3 });
        const remaining = [];
        for (let i = 0; i < 3; i++) {
          const r = await service.verify({ id, code: wrong(code), binding: undefined });
          expect(r.outcome).toBe("invalid_code");
          remaining.push(r.attemptsRemaining);
        }
        expect(remaining).toEqual([2, 1, 0]);
        const last = await service.verify({ id, code, binding: undefined });
        expect(last).toMatchObject({ outcome: "attempts_exhausted", status: "attempts_exhausted" });
      });

      it("refuses a right code after expiry", async () => {
        const { id, code } = await service.generate({ ...base, ttlSeconds: 5 });
        clock.advance(5_000);
        expect((await service.verify({ id, code, binding: undefined })).outcome).toBe("expired");
        expect((await service.get(id)).status).toBe("expired");
      });

      it("forgets a challenge after the retention period", async () => {
        const { id } = await service.generate({ ...base, ttlSeconds: 5 });
        clock.advance(5_000 + 600_000);
        expect(await reasonOf(service.get(id))).toBe("CHALLENGE_NOT_FOUND");
      });

      it("accepts a binding in any key order and answers a mismatch the same for right and wrong codes", async () => {
        const binding = { session: "s-1", device: { os: "ios", v: 17 } };
        const { id, code } = await service.generate({ ...base, binding, maxAttempts: 5 });
        const other = { session: "s-2", device: { os: "ios", v: 17 } };
        const right = await service.verify({ id, code, binding: other });
        const wrongCode = await service.verify({ id, code: wrong(code), binding: other });
        const missing = await service.verify({ id, code, binding: undefined });
        expect([right.outcome, wrongCode.outcome, missing.outcome]).toEqual([
          "binding_mismatch",
          "binding_mismatch",
          "binding_mismatch",
        ]);
        expect([right.attemptsRemaining, wrongCode.attemptsRemaining]).toEqual([4, 3]);
        const reordered = { device: { v: 17, os: "ios" }, session: "s-1" };
        expect((await service.verify({ id, code, binding: reordered })).outcome).toBe("verified");
      });

      it("checks alphanumeric codes without regard to case, and word codes without regard to separators", async () => {
        const alnum = await service.generate({ ...base, alphabet: "alphanumeric" });
        expect(
          (
            await service.verify({
              id: alnum.id,
              code: alnum.code.toLowerCase(),
              binding: undefined,
            })
          ).outcome,
        ).toBe("verified");
        const words = await service.generate({ ...base, alphabet: "words" });
        expect(words.code.split("-")).toHaveLength(4);
        const typed = words.code.split("-").join("  ").toUpperCase();
        expect(
          (await service.verify({ id: words.id, code: typed, binding: undefined })).outcome,
        ).toBe("verified");
      });

      it("verifies a code issued before the HMAC secret was rotated", async () => {
        const { id, code } = await service.generate(base);
        const rotated = build(["n".repeat(32), "k".repeat(32)]);
        expect((await rotated.verify({ id, code, binding: undefined })).outcome).toBe("verified");
      });

      it("refuses malformed ids and empty codes, and reports unknown ids as not found", async () => {
        expect(await reasonOf(service.verify({ id: "nope", code: "1", binding: undefined }))).toBe(
          "ID_INVALID",
        );
        const { id } = await service.generate(base);
        expect(await reasonOf(service.verify({ id, code: "  ", binding: undefined }))).toBe(
          "CODE_INVALID",
        );
        expect(
          await reasonOf(
            service.verify({ id: crypto.randomUUID(), code: "123456", binding: undefined }),
          ),
        ).toBe("CHALLENGE_NOT_FOUND");
      });

      it("lets 50 concurrent wrong guesses through no more than max_attempts times", async () => {
        const { id, code } = await service.generate({ ...base, maxAttempts: 5 });
        const results = await Promise.all(
          Array.from({ length: 50 }, () =>
            service.verify({ id, code: wrong(code), binding: undefined }),
          ),
        );
        expect(results.filter((r) => r.outcome === "invalid_code")).toHaveLength(5);
        expect(results.filter((r) => r.outcome === "attempts_exhausted")).toHaveLength(45);
      });

      it("verifies 20 concurrent right guesses exactly once", async () => {
        const { id, code } = await service.generate(base);
        const results = await Promise.all(
          Array.from({ length: 20 }, () => service.verify({ id, code, binding: undefined })),
        );
        expect(results.filter((r) => r.outcome === "verified")).toHaveLength(1);
        expect(results.filter((r) => r.outcome === "already_verified")).toHaveLength(19);
      });
    });

    describe("cancel", () => {
      it("stops a pending challenge from verifying", async () => {
        const { id, code } = await service.generate(base);
        expect(await service.cancel(id)).toBe("canceled");
        expect(await service.cancel(id)).toBe("canceled");
        expect((await service.verify({ id, code, binding: undefined })).outcome).toBe("canceled");
      });

      it("leaves a verified challenge verified", async () => {
        const { id, code } = await service.generate(base);
        await service.verify({ id, code, binding: undefined });
        expect(await service.cancel(id)).toBe("verified");
      });
    });

    describe("resend", () => {
      it("replaces the code after the cooldown and retires the old one", async () => {
        const first = await service.generate(base);
        expect(await reasonOf(service.resend(first.id))).toBe("RESEND_COOLDOWN");
        clock.advance(30_000);
        const second = await service.resend(first.id);
        expect(second.id).toBe(first.id);
        expect(second.sendsRemaining).toBe(1);
        if (second.code !== first.code) {
          expect(
            (await service.verify({ id: first.id, code: first.code, binding: undefined })).outcome,
          ).toBe("invalid_code");
        }
        expect(
          (await service.verify({ id: first.id, code: second.code, binding: undefined })).outcome,
        ).toBe("verified");
      });

      it("sends the same code again while it is valid, and counts the send", async () => {
        const outbox = [
          { channel: "outbox" as const, recipient: "+14155552671", selfDestructSeconds: 0 },
        ];
        const first = await service.generate({ ...base, ttlSeconds: 120, targets: outbox });
        clock.advance(30_000);
        const again = await service.resend(first.id);
        expect(again.sendsRemaining).toBe(1);
        expect(again.expiresAtMs).toBe(first.expiresAtMs);
        const texts = (await store.listOutbox({ challengeId: first.id, limit: 10 }, clock.now()))
          .map((m) => /(\d{6})/.exec(m.text)?.[1])
          .sort();
        expect(texts).toHaveLength(2);
        expect(texts[0]).toBe(texts[1]);
        // Its attempts are the challenge's: one wrong guess before, the right code after.
        await service.verify({ id: first.id, code: wrong(texts[0] as string), binding: undefined });
        const right = await service.verify({
          id: first.id,
          code: texts[0] as string,
          binding: undefined,
        });
        expect(right.outcome).toBe("verified");
        expect((await service.get(first.id)).attemptsRemaining).toBe(3);
        // Nothing of the code is stored in the clear.
        expect(JSON.stringify(await store.getChallenge(first.id, clock.now()))).not.toContain(
          texts[0],
        );
      });

      it("sends a new code once the old one expired, or always when told to", async () => {
        const outbox = [
          { channel: "outbox" as const, recipient: "+14155552671", selfDestructSeconds: 0 },
        ];
        const codes = async (id: string) =>
          (await store.listOutbox({ challengeId: id, limit: 10 }, clock.now())).map(
            (m) => /(\d{6})/.exec(m.text)?.[1],
          );
        const expiring = await service.generate({ ...base, ttlSeconds: 10, targets: outbox });
        clock.advance(30_000);
        await service.resend(expiring.id);
        const fresh = new Set(await codes(expiring.id));
        const fresher = build(undefined, { newCodePerSend: true });
        const always = await fresher.generate({ ...base, ttlSeconds: 600, targets: outbox });
        clock.advance(30_000);
        await fresher.resend(always.id);
        const alwaysCodes = new Set(await codes(always.id));
        // A tenant's own choice wins over the service's.
        const mine = await service.generate({ ...base, ttlSeconds: 600, targets: outbox });
        clock.advance(30_000);
        const own = effectiveSettings(emptySettings()) as EffectiveSettings;
        await service.resend(mine.id, { settings: { ...own, newCodePerSend: true } });
        // Two sends each; a six-digit code repeats by chance once in a million.
        expect(fresh.size + alwaysCodes.size + new Set(await codes(mine.id)).size).toBe(6);
      });

      it("claims a fallback once per generation, and never once the code is used", async () => {
        const { id } = await service.generate(base);
        expect((await store.claimFallback(id, 0, clock.now()))?.fallbackGen).toBe(1);
        expect(await store.claimFallback(id, 0, clock.now())).toBeUndefined();
        clock.advance(30_000);
        await service.resend(id);
        // A Resend starts a new chain: the generation moved on again.
        expect(await store.claimFallback(id, 1, clock.now())).toBeUndefined();
        const again = await store.claimFallback(id, 2, clock.now());
        expect(again?.fallbackGen).toBe(3);
        const other = await service.generate(base);
        await service.verify({ id: other.id, code: other.code, binding: undefined });
        expect(await store.claimFallback(other.id, 0, clock.now())).toBeUndefined();
      });

      it("tells how long to wait during the cooldown", async () => {
        const { id } = await service.generate(base);
        clock.advance(12_000);
        try {
          await service.resend(id);
          expect.unreachable();
        } catch (err) {
          expect(isOtpError(err, "RESEND_COOLDOWN") && err.retryAfterMs).toBe(18_000);
        }
      });

      it("caps the number of codes per challenge", async () => {
        const { id } = await service.generate(base);
        for (let i = 0; i < 2; i++) {
          clock.advance(30_000);
          await service.resend(id);
        }
        clock.advance(30_000);
        expect(await reasonOf(service.resend(id))).toBe("SEND_LIMIT_REACHED");
      });

      it("gives an expired challenge a fresh lifetime", async () => {
        const { id } = await service.generate({ ...base, ttlSeconds: 10 });
        clock.advance(40_000);
        const again = await service.resend(id);
        expect(again.expiresAtMs).toBe(clock.now() + 10_000);
        expect((await service.verify({ id, code: again.code, binding: undefined })).outcome).toBe(
          "verified",
        );
      });

      it("refuses verified, canceled and exhausted challenges", async () => {
        const verified = await service.generate(base);
        await service.verify({ id: verified.id, code: verified.code, binding: undefined });
        const canceled = await service.generate(base);
        await service.cancel(canceled.id);
        const exhausted = await service.generate({ ...base, maxAttempts: 1 });
        await service.verify({ id: exhausted.id, code: wrong(exhausted.code), binding: undefined });
        clock.advance(30_000);
        for (const { id } of [verified, canceled, exhausted]) {
          expect(await reasonOf(service.resend(id))).toBe("CHALLENGE_NOT_PENDING");
        }
      });
    });

    describe("getChallenge", () => {
      it("describes a challenge without its code", async () => {
        const issued = await service.generate({ ...base, binding: { a: 1 }, maxAttempts: 4 });
        await service.verify({ id: issued.id, code: wrong(issued.code), binding: { a: 1 } });
        const view = await service.get(issued.id);
        expect(view).toMatchObject({
          status: "pending",
          attemptsRemaining: 3,
          maxAttempts: 4,
          hasBinding: true,
          sends: 1,
          sendsRemaining: 2,
        });
        expect(JSON.stringify(view)).not.toContain(issued.code);
      });
    });

    describe("deliveries", () => {
      const delivery = (id: string, fingerprint = "") => ({
        id,
        channel: "sms" as const,
        recipientMasked: "+1******0100",
        challengeId: "",
        createdAtMs: clock.now(),
        deleteAtMs: 0,
        providerMessageId: "",
        idempotencyFingerprint: fingerprint,
        retainUntilMs: clock.now() + 60_000,
        events: [{ status: "queued" as const, atMs: clock.now(), reason: "", attempt: 0 }],
      });

      it("records a delivery's history in order and finds it by the provider's id", async () => {
        const id = crypto.randomUUID();
        expect((await store.createDelivery(delivery(id))).kind).toBe("created");
        expect(
          await store.appendDeliveryEvent(id, {
            status: "failed",
            atMs: clock.now(),
            reason: "PROVIDER_UNAVAILABLE",
            attempt: 1,
          }),
        ).toBe(true);
        await store.appendDeliveryEvent(
          id,
          { status: "sent", atMs: clock.now(), reason: "", attempt: 2 },
          "SM123",
        );
        const got = await store.getDelivery(id, clock.now());
        expect(got?.events.map((e) => e.status)).toEqual(["queued", "failed", "sent"]);
        expect(got?.providerMessageId).toBe("SM123");
        expect(await store.findDeliveryByProviderId("sms", "SM123")).toBe(id);
        expect(await store.findDeliveryByProviderId("sms", "SM999")).toBeUndefined();
        expect(
          await store.appendDeliveryEvent(crypto.randomUUID(), {
            status: "sent",
            atMs: 0,
            reason: "",
            attempt: 1,
          }),
        ).toBe(false);
      });

      it("sets the self-destruct time given with an event", async () => {
        const id = crypto.randomUUID();
        await store.createDelivery(delivery(id));
        const deleteAtMs = clock.now() + 30_000;
        await store.appendDeliveryEvent(
          id,
          { status: "sent", atMs: clock.now(), reason: "", attempt: 1 },
          "7001:55",
          deleteAtMs,
        );
        const got = await store.getDelivery(id, clock.now());
        expect([got?.deleteAtMs, got?.providerMessageId]).toEqual([deleteAtMs, "7001:55"]);
      });

      it("replays a delivery with the same fingerprint and refuses a different one", async () => {
        const id = crypto.randomUUID();
        await store.createDelivery(delivery(id, "fp-1"));
        expect((await store.createDelivery(delivery(id, "fp-1"))).kind).toBe("replay");
        expect((await store.createDelivery(delivery(id, "fp-2"))).kind).toBe("conflict");
      });

      it("forgets a delivery after its retention", async () => {
        const id = crypto.randomUUID();
        await store.createDelivery(delivery(id));
        clock.advance(61_000);
        expect(await store.getDelivery(id, clock.now())).toBeUndefined();
      });
    });

    describe("limits charged in the call's store step", () => {
      // Keys unique to each test, since a Redis store of the suite may share counters.
      const charge = (bucket: string, points: number, extra: Partial<LimitCharge> = {}) => ({
        bucket,
        key: crypto.randomUUID(),
        limit: { points, windowMs: 60_000 },
        ...extra,
      });

      it("refuses a Generate over a limit with the bucket and a delay, and creates nothing", async () => {
        const ip = charge("generate_ip", 1, { failOpen: true });
        const quota = charge("tenant_generate", 5);
        const first = await service.generate(base, { charges: { limits: [ip, quota] } });
        expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
        let refusal: unknown;
        await service.generate(base, { charges: { limits: [ip, quota] } }).catch((err: unknown) => {
          refusal = err;
        });
        expect(isOtpError(refusal) && refusal.reason).toBe("RATE_LIMITED");
        expect(isOtpError(refusal) && refusal.metadata.limit).toBe("generate_ip");
        expect(isOtpError(refusal) && (refusal.retryAfterMs ?? 0) > 0).toBe(true);
        // The quota after the refusing limit was not charged: four more fit.
        for (let i = 0; i < 4; i++) {
          await service.generate(base, { charges: { limits: [quota] } });
        }
        expect(await reasonOf(service.generate(base, { charges: { limits: [quota] } }))).toBe(
          "RATE_LIMITED",
        );
      });

      it("leaves no challenge behind for a refused create", async () => {
        const id = crypto.randomUUID();
        const limit = charge("tenant_generate", 0);
        const record = (await store.createChallenge({ record: sampleChallenge(id) })).kind;
        expect(record).toBe("created");
        const other = crypto.randomUUID();
        const refused = await store.createChallenge({
          record: sampleChallenge(other),
          charges: { limits: [limit] },
        });
        expect(refused.kind).toBe("refused");
        expect(await store.getChallenge(other, clock.now())).toBeUndefined();
      });

      it("refuses a Verify over its limit before the lookup, and spends no attempt", async () => {
        const { id, code } = await service.generate({ ...base, maxAttempts: 3 });
        const perIp = charge("verify_ip", 1, { failOpen: true });
        await service.verify(
          { id, code: wrong(code), binding: undefined },
          { charges: { limits: [perIp] } },
        );
        expect(
          await reasonOf(
            service.verify({ id, code, binding: undefined }, { charges: { limits: [perIp] } }),
          ),
        ).toBe("RATE_LIMITED");
        // An unknown id is refused alike: a refusal says nothing about existence.
        expect(
          await reasonOf(
            service.verify(
              { id: crypto.randomUUID(), code, binding: undefined },
              { charges: { limits: [perIp] } },
            ),
          ),
        ).toBe("RATE_LIMITED");
        expect((await service.get(id)).attemptsRemaining).toBe(2);
        expect((await service.verify({ id, code, binding: undefined })).outcome).toBe("verified");
      });

      it("counts the per-challenge limit beside the challenge", async () => {
        const { id } = await service.generate({ ...base, maxAttempts: 10 });
        const perChallenge = { ...charge("verify_challenge", 2, { withChallenge: true }), key: id };
        // Presents no candidate: every counted guess is wrong.
        const verify = () =>
          store.verify(id, {
            candidateHmacs: [],
            candidatesByAlphabet: {},
            bindingHash: "",
            nowMs: clock.now(),
            charges: { limits: [perChallenge] },
          });
        expect((await verify())?.outcome).toBe("invalid_code");
        expect((await verify())?.outcome).toBe("invalid_code");
        const third = await verify();
        expect(third?.refused?.bucket).toBe("verify_challenge");
        expect((await service.get(id)).attemptsRemaining).toBe(8);
      });

      it("answers another tenant's challenge as unknown, and leaves it unchanged", async () => {
        const id = crypto.randomUUID();
        await store.createChallenge({ record: { ...sampleChallenge(id), tenantId: "ten_a" } });
        const input = { candidateHmacs: ["hmac"], bindingHash: "", nowMs: clock.now() };
        expect(await store.verify(id, { ...input, tenantId: "ten_b" })).toBeUndefined();
        expect(await store.verify(id, { ...input, tenantId: "default" })).toBeUndefined();
        expect((await store.getChallenge(id, clock.now()))?.attempts).toBe(0);
        expect((await store.verify(id, { ...input, tenantId: "ten_a" }))?.outcome).toBe("verified");
      });

      it("counts usage with the call, refused or not, in the format GetUsage reads", async () => {
        const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
        const nowMs = clock.now();
        const usage = { tenantId, counters: ["rpc:Generate"], atMs: nowMs };
        await store.createChallenge({
          record: sampleChallenge(crypto.randomUUID()),
          charges: { limits: [], usage },
        });
        await store.createChallenge({
          record: sampleChallenge(crypto.randomUUID()),
          charges: { limits: [charge("tenant_generate", 0)], usage },
        });
        // Where usage lives apart from the challenge it is sent alongside, unawaited.
        const day = new Date(nowMs).toISOString().slice(0, 10);
        await vi.waitFor(
          async () =>
            expect(await store.getUsage(tenantId, [day])).toEqual({
              [day]: { "rpc:Generate": 2 },
            }),
          { timeout: 3000, interval: 20 },
        );
      });
    });
  });
}
