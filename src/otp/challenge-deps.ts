import type { TenantScope } from "../core/tenant-scope.js";
import type { Dispatcher } from "../delivery/dispatcher.js";
import type { TargetRules } from "../delivery/targets.js";
import type { LimitRefusal, LimitStore, RateLimit } from "../tenancy/limit-store.js";
import type { ChallengeStore } from "./challenge-store.js";
import type { ExpiryWithdrawals, FallbackTimers, OtpObserver } from "./challenge-types.js";
import type { CodeHasher } from "./code-hasher.js";
import { otpErrors } from "./errors.js";

/**
 * What every challenge operation reads: the store, the hasher, the
 * dispatcher and the service's settings, resolved once by
 * `createChallengeService` and shared by all its calls.
 */
export interface ChallengeDeps {
  /** The store as the call's tenant sees it. */
  store: ChallengeStore;
  /** The call's tenant; undefined for background work and for a service without tenants. */
  scope: TenantScope | undefined;
  hasher: CodeHasher;
  dispatcher: Dispatcher;
  /** Which targets Generate accepts, with the dispatcher's channels as the usable ones. */
  rules: TargetRules;
  now: () => number;
  /** Minimum time between two codes for one challenge, in milliseconds. */
  cooldownMs: number;
  /** How long a challenge stays readable after its code expires, in milliseconds. */
  retentionMs: number;
  /** The most codes one challenge may have, the first included. */
  maxSends: number;
  /** Verify calls per challenge, counted before the challenge is looked up. */
  verifyPerChallenge: RateLimit | "off";
  observer: OtpObserver | undefined;
  /**
   * Where Verify by recipient charges the call's limits beside its index
   * read (otp/verify-by-recipient.ts); without it they go with the verify step.
   */
  limits?: LimitStore | undefined;
  /** The observer's `geoReported`, bound once; undefined without one. */
  geoReport?: ((channel: string, country: string, tenantId: string) => void) | undefined;
  /** Seals codes of challenges with targets, so a Resend can send the same one; undefined: never. */
  codeSeal: CodeSeal | undefined;
  /** A new code for every send instead of the same code while it is valid. */
  newCodePerSend: boolean;
  /** Where fallbacks on silence wait; undefined: targets' `fallbackAfterSeconds` are not acted on. */
  fallbackTimers: FallbackTimers | undefined;
  /** Timers that withdraw messages when their code expires unused; undefined: none. */
  expiryWithdrawals: ExpiryWithdrawals | undefined;
}

/** Seals and opens a challenge's code (core/code-seal.ts implements it). */
export interface CodeSeal {
  seal(challengeId: string, code: string): string;
  /** Undefined when no secret opens it. */
  open(challengeId: string, sealed: string): string | undefined;
}

/**
 * Tells the observer of a refused limit, and answers as the interceptor's
 * limits always have: `RATE_LIMITED` with the bucket's name and retry delay.
 */
export function rateLimitedBy(deps: ChallengeDeps, refusal: LimitRefusal) {
  deps.observer?.rateLimited(refusal.bucket, deps.scope?.tenantId);
  return otpErrors.rateLimited(refusal.bucket, refusal.retryAfterMs);
}
