import type { ChallengeDeps } from "./challenge-deps.js";
import type { ChallengeRecord } from "./challenge-store.js";
import { challengeStatus } from "./challenge-transitions.js";
import type { ChallengeView, IssuedCode } from "./challenge-types.js";

/**
 * What Generate and Resend answer for a record and the code just issued:
 * the code itself only when there is no target to deliver it.
 */
export function issuedCode(deps: ChallengeDeps, record: ChallengeRecord, code: string): IssuedCode {
  return {
    id: record.id,
    expiresAtMs: record.expiresAtMs,
    code: record.targets.length === 0 ? code : "",
    deliveryId: record.deliveryAttempts.find((a) => a.status === "accepted")?.deliveryId ?? "",
    deliveryAttempts: record.deliveryAttempts,
    sendsRemaining: Math.max(0, deps.maxSends - record.sends),
    resendAvailableAtMs: record.lastSentAtMs + deps.cooldownMs,
  };
}

/** A record as GetChallenge shows it, its status read from the service's clock now. */
export function challengeView(deps: ChallengeDeps, record: ChallengeRecord): ChallengeView {
  return {
    id: record.id,
    status: challengeStatus(record, deps.now()),
    attemptsRemaining: Math.max(0, record.maxAttempts - record.attempts),
    maxAttempts: record.maxAttempts,
    createdAtMs: record.createdAtMs,
    expiresAtMs: record.expiresAtMs,
    verifiedAtMs: record.verifiedAtMs,
    alphabet: record.alphabet,
    codeLength: record.codeLength,
    hasBinding: record.bindingHash !== "",
    sends: record.sends,
    sendsRemaining: Math.max(0, deps.maxSends - record.sends),
    resendAvailableAtMs: record.lastSentAtMs + deps.cooldownMs,
    deliveryAttempts: record.deliveryAttempts,
  };
}
