import type { CallCharges } from "../tenancy/limit-store.js";
import type { JsonValue } from "./binding-hash.js";
import type { ChallengeRecord, DeliveryAttemptRecord, VerifyOutcome } from "./challenge-store.js";
import type { challengeStatus } from "./challenge-transitions.js";

// The plain types the OTP domain speaks; challenge-service.ts re-exports them,
// so callers keep importing them from there.

/** Where a challenge stands, as clients see it. */
export type ChallengeStatusName = ReturnType<typeof challengeStatus>;

/**
 * Hooks for counting what happens; metrics and the activity counters plug in
 * here. The record is the challenge as stored (never to be logged whole: it
 * holds recipients).
 */
export interface OtpObserver {
  generated(alphabet: string, record: ChallengeRecord): void;
  verified(outcome: VerifyOutcome, record: ChallengeRecord): void;
  /** A Cancel found the challenge; `record` is as the cancel left it. */
  canceled?(record: ChallengeRecord): void;
  rateLimited(limit: string): void;
}

/** How long the caller waits, so that sends are cut short in time for the answer. */
export interface CallLimits {
  /** The RPC's remaining time, in milliseconds; none when undefined. */
  timeoutMs?: number;
  /**
   * Limits and quotas to charge the call against (per-IP, tenant quota), in
   * the same store step as its change: a refusal creates nothing and costs
   * no attempt, and answers `RATE_LIMITED` with the bucket's name.
   */
  charges?: CallCharges;
}

/** What Generate and Resend return. */
export interface IssuedCode {
  id: string;
  expiresAtMs: number;
  /** The code, only when the challenge has no delivery targets. */
  code: string;
  deliveryId: string;
  deliveryAttempts: DeliveryAttemptRecord[];
  sendsRemaining: number;
  resendAvailableAtMs: number;
}

/** What Verify is given: the challenge's id, the code presented and the binding presented with it. */
export interface VerifyInput {
  id: string;
  code: string;
  binding: { [key: string]: JsonValue } | undefined;
}

/** What Verify returns. */
export interface VerifyResult {
  outcome: VerifyOutcome;
  /** The canonical hash of the binding presented, for signed results. */
  bindingHash: string;
  attemptsRemaining: number;
  status: ChallengeStatusName;
  verifiedAtMs: number;
}

/** A challenge as clients may see it: no code, no HMAC, no full recipients. */
export interface ChallengeView {
  id: string;
  status: ChallengeStatusName;
  attemptsRemaining: number;
  maxAttempts: number;
  createdAtMs: number;
  expiresAtMs: number;
  verifiedAtMs: number;
  alphabet: ChallengeRecord["alphabet"];
  codeLength: number;
  hasBinding: boolean;
  sends: number;
  sendsRemaining: number;
  resendAvailableAtMs: number;
  deliveryAttempts: DeliveryAttemptRecord[];
}
