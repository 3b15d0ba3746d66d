import type { ChannelKind } from "../core/channel-kind.js";
import type { TenantScope } from "../core/tenant-scope.js";
import type { EffectiveSettings } from "../tenancy/effective-settings.js";
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
  /** A limit refused a call of `tenantId` (undefined: a call without a tenant). */
  rateLimited(limit: string, tenantId: string | undefined): void;
  /** A number a tenant's report-only geo permission would have refused (channel, country or ""). */
  geoReported?(channel: string, country: string, tenantId: string): void;
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
  /**
   * The caller's tenant settings (from the cached credential): defaults,
   * channels, countries, brand and templates. Undefined: the service's.
   */
  settings?: EffectiveSettings;
  /** The caller's tenant (core/tenant-scope.ts); undefined: a call that sees every tenant. */
  scope?: TenantScope;
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

/**
 * What Verify is given: the challenge's id, or instead the recipient and
 * channel the code went to (the latest challenge sent there); the code
 * presented and the binding presented with it.
 */
export interface VerifyInput {
  id: string;
  /** With `channel`, in place of `id`; "" when the id is given. */
  recipient?: string;
  channel?: ChannelKind | "invalid" | undefined;
  code: string;
  binding: { [key: string]: JsonValue } | undefined;
}

/** What Verify returns. */
export interface VerifyResult {
  /** The challenge verified against (found by recipient when no id was given). */
  id: string;
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

/** A fallback on silence waiting in the store: try `from` onwards unless the code is used first. */
export interface FallbackTimer {
  challengeId: string;
  tenantId: string;
  /** The challenge's fallback generation when the timer was set (see ChallengeRecord.fallbackGen). */
  gen: number;
  /** The index of the first target still to try. */
  from: number;
}

/**
 * Where timers wait that withdraw, when a code expires unused, the messages
 * that carried it on channels that do not withdraw them by themselves (the
 * Telegram Gateway; a Telegram bot message self-destructs at the code's expiry).
 */
export interface ExpiryWithdrawals {
  /** Whether a message on this channel needs the timer. */
  needed(channel: string): boolean;
  set(timer: { challengeId: string; tenantId: string }, dueMs: number): Promise<void>;
}

/** Where fallback timers wait: a durable queue any replica claims from (app/fallback-poller.ts). */
export interface FallbackTimers {
  set(timer: FallbackTimer, dueMs: number): Promise<void>;
}
