import type {
  ChallengeRecord,
  DeliveryAttemptRecord,
  ReplaceCodeInput,
  ReplaceCodeResult,
  VerifyInput,
  VerifyOutcome,
} from "./challenge-store.js";
import { hmacEquals } from "./code-hasher.js";

/**
 * The state transitions of a challenge, as pure functions on records. The
 * memory store applies them directly; the Redis store's scripts follow the
 * same steps, and the shared contract tests hold both to them.
 */

/** The status a challenge shows at `nowMs`. */
export function challengeStatus(
  record: ChallengeRecord,
  nowMs: number,
): "pending" | "verified" | "canceled" | "expired" | "attempts_exhausted" {
  if (record.state !== "pending") return record.state;
  if (nowMs >= record.expiresAtMs) return "expired";
  if (record.attempts >= record.maxAttempts) return "attempts_exhausted";
  return "pending";
}

/**
 * One verification: terminal states answer without counting; otherwise the
 * attempt is counted first, then the binding and the code are checked. A
 * binding mismatch answers the same whether or not the code was right.
 */
export function applyVerify(
  record: ChallengeRecord,
  input: VerifyInput,
): { outcome: VerifyOutcome; record: ChallengeRecord } {
  const status = challengeStatus(record, input.nowMs);
  if (status !== "pending") {
    const outcome: VerifyOutcome = status === "verified" ? "already_verified" : status;
    return { outcome, record };
  }
  const counted: ChallengeRecord = { ...record, attempts: record.attempts + 1 };
  // Compare against every candidate, always, so timing says nothing about which matched.
  let codeMatches = false;
  const candidates =
    input.candidatesByAlphabet === undefined
      ? input.candidateHmacs
      : (input.candidatesByAlphabet[record.alphabet] ?? []);
  for (const candidate of candidates) {
    if (hmacEquals(candidate, record.codeHmac)) codeMatches = true;
  }
  if (!hmacEquals(input.bindingHash, record.bindingHash)) {
    return { outcome: "binding_mismatch", record: counted };
  }
  if (!codeMatches) return { outcome: "invalid_code", record: counted };
  return {
    outcome: "verified",
    record: { ...counted, state: "verified", verifiedAtMs: input.nowMs },
  };
}

/** Cancels a pending challenge; any other state is left as it is. */
export function applyCancel(record: ChallengeRecord, nowMs: number): ChallengeRecord {
  return challengeStatus(record, nowMs) === "pending" ? { ...record, state: "canceled" } : record;
}

/**
 * Issues a new code. A pending or expired challenge may get one; verified,
 * canceled and exhausted ones may not, or Resend would reset a guessing budget.
 */
export function applyReplaceCode(
  record: ChallengeRecord,
  input: ReplaceCodeInput,
): ReplaceCodeResult {
  // Exhaustion counts even after expiry: a new code must never reset a spent guessing budget.
  if (record.state !== "pending" || record.attempts >= record.maxAttempts) {
    return { kind: "not_pending", record };
  }
  if (record.sends >= input.maxSends) return { kind: "send_limit" };
  const readyAt = record.lastSentAtMs + input.cooldownMs;
  if (input.nowMs < readyAt) return { kind: "cooldown", retryAfterMs: readyAt - input.nowMs };
  if (
    input.keepLiveCode === true &&
    record.sealedCode !== undefined &&
    input.nowMs < record.expiresAtMs
  ) {
    // The same code again: only the send is counted.
    return {
      kind: "replaced",
      record: {
        ...record,
        sends: record.sends + 1,
        lastSentAtMs: input.nowMs,
        deliveryAttempts: [],
        fallbackGen: (record.fallbackGen ?? 0) + 1,
      },
    };
  }
  const expiresAtMs = input.nowMs + record.ttlSeconds * 1000;
  const { sealedCode: _old, ...rest } = record;
  return {
    kind: "replaced",
    record: {
      ...rest,
      ...(input.sealedCode === undefined ? {} : { sealedCode: input.sealedCode }),
      codeHmac: input.codeHmac,
      // A new send starts its own fallback chain: timers set before it no longer act.
      fallbackGen: (record.fallbackGen ?? 0) + 1,
      expiresAtMs,
      sends: record.sends + 1,
      lastSentAtMs: input.nowMs,
      retainUntilMs: Math.max(record.retainUntilMs, expiresAtMs + input.retentionMs),
      deliveryAttempts: [],
    },
  };
}

/**
 * A fallback on silence claimed for one caller: while the challenge is
 * pending, within its attempts and lifetime, and no later send or fallback
 * happened (its generation is still `gen`), the generation moves on and the
 * updated record is the answer; otherwise undefined.
 */
export function applyClaimFallback(
  record: ChallengeRecord,
  gen: number,
  nowMs: number,
): ChallengeRecord | undefined {
  if (record.state !== "pending" || record.attempts >= record.maxAttempts) return undefined;
  if (nowMs >= record.expiresAtMs || (record.fallbackGen ?? 0) !== gen) return undefined;
  return { ...record, fallbackGen: gen + 1 };
}

/**
 * A send's attempts recorded on its challenge: they become the latest
 * attempts, and the deliveries they made join the challenge's list of sent
 * messages, once each (at most 50), so they can be withdrawn later.
 */
export function applyDeliveryAttempts(
  record: ChallengeRecord,
  attempts: readonly DeliveryAttemptRecord[],
): ChallengeRecord {
  const sent = [...(record.sentDeliveries ?? [])];
  for (const a of attempts) {
    if (a.status !== "accepted" || a.deliveryId === "" || sent.length >= 50) continue;
    if (!sent.some((s) => s.deliveryId === a.deliveryId)) {
      sent.push({ channel: a.channel, deliveryId: a.deliveryId });
    }
  }
  return {
    ...record,
    deliveryAttempts: [...attempts],
    ...(sent.length === 0 ? {} : { sentDeliveries: sent }),
  };
}
