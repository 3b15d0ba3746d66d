import type { ChallengeRecord } from "../../src/otp/challenge-store.js";

/**
 * A pending numeric challenge as a store holds it, created at `nowMs`: a
 * 60-second code, 5 attempts, kept 2 minutes. Tests change what they need.
 *
 * @example
 * await store.createChallenge({ record: { ...sampleChallenge(id), tenantId: "ten_a" } });
 */
export function sampleChallenge(id: string, nowMs = Date.now()): ChallengeRecord {
  return {
    id,
    codeHmac: "hmac",
    bindingHash: "",
    alphabet: "numeric",
    codeLength: 6,
    ttlSeconds: 60,
    maxAttempts: 5,
    attempts: 0,
    state: "pending",
    createdAtMs: nowMs,
    expiresAtMs: nowMs + 60_000,
    verifiedAtMs: 0,
    sends: 1,
    lastSentAtMs: nowMs,
    retainUntilMs: nowMs + 120_000,
    targets: [],
    deliveryAttempts: [],
    idempotencyFingerprint: "",
  };
}
