import type { ChannelKind } from "../core/channel-kind.js";
import type { CallCharges, LimitRefusal } from "../tenancy/limit-store.js";
import type { AlphabetName } from "./alphabets.js";

// Declared by the domain that uses it (DESIGN.md): store/memory and
// store/redis implement it, and test/contract/store-contract.ts holds both to it.

/** One place a code should be sent to, as stored with its challenge. */
export interface TargetRecord {
  channel: ChannelKind;
  recipient: string;
  selfDestructSeconds: number;
  /** Seconds to wait, once this target accepted the code, before the next one is tried; absent or 0: never. */
  fallbackAfterSeconds?: number;
}

/** What happened when a code was sent to one target. */
export interface DeliveryAttemptRecord {
  channel: ChannelKind;
  recipientMasked: string;
  status: "accepted" | "failed" | "skipped";
  deliveryId: string;
  errorReason: string;
  viaOutbox: boolean;
}

/** The stored state of a challenge. It holds the code only as an HMAC. */
export interface ChallengeRecord {
  id: string;
  /** The tenant that owns the challenge; stamped by the tenant-scoped store. */
  tenantId?: string;
  codeHmac: string;
  bindingHash: string;
  alphabet: AlphabetName;
  codeLength: number;
  ttlSeconds: number;
  maxAttempts: number;
  attempts: number;
  /** Only the states a call sets; expiry and exhaustion are derived from the clock and counters. */
  state: "pending" | "verified" | "canceled";
  createdAtMs: number;
  expiresAtMs: number;
  verifiedAtMs: number;
  sends: number;
  lastSentAtMs: number;
  /** When the store may forget the challenge; always set, so no record outlives its use. */
  retainUntilMs: number;
  targets: TargetRecord[];
  deliveryAttempts: DeliveryAttemptRecord[];
  /** The language of the messages that carry the code, for example "es"; the default when absent. */
  locale?: string;
  /**
   * The current code sealed (core/code-seal.ts), for challenges with delivery
   * targets: Resend and fallback send it again while it is valid. Never the
   * code in the clear; absent when there is nothing to resend.
   */
  sealedCode?: string;
  /**
   * Counts the fallbacks on silence taken and the Resends made: a fallback
   * timer acts only while the count is still the one it was set with.
   */
  fallbackGen?: number;
  /**
   * Every accepted delivery of every send of the challenge (at most 50), so
   * the messages that carried its code can be withdrawn when it is used.
   */
  sentDeliveries?: { channel: ChannelKind; deliveryId: string }[];
  /**
   * For a challenge made with an idempotency key, a hash of the request; its
   * id is derived from the key, so a repeated request finds this record.
   */
  idempotencyFingerprint: string;
}

/** The outcome of one atomic verification step. */
export type VerifyOutcome =
  | "verified"
  | "invalid_code"
  | "expired"
  | "attempts_exhausted"
  | "binding_mismatch"
  | "already_verified"
  | "canceled";

/** Input to {@link Store.verify}. */
export interface VerifyInput {
  /** HMACs of the presented code under every secret; a match with any one proves it. */
  candidateHmacs: string[];
  /**
   * HMACs of the presented code as each alphabet normalises it; when given,
   * only those of the challenge's own alphabet count (and `candidateHmacs` is
   * ignored), so the caller need not read the challenge first.
   */
  candidatesByAlphabet?: Partial<Record<AlphabetName, string[]>>;
  bindingHash: string;
  nowMs: number;
  /**
   * The tenant that must own the challenge: another tenant's challenge
   * answers exactly as an unknown id (undefined), and is left unchanged.
   * Records without a tenant belong to "default". Undefined: any tenant.
   */
  tenantId?: string;
  /** Limits and usage counted in the same step, before anything else. */
  charges?: CallCharges;
}

/** The outcome of {@link Store.verify} for a known id. */
export type VerifyStepResult =
  | { outcome: VerifyOutcome; record: ChallengeRecord; refused?: undefined }
  | { refused: LimitRefusal; outcome?: undefined; record?: undefined };

/** Input to {@link Store.replaceCode}. */
export interface ReplaceCodeInput {
  codeHmac: string;
  nowMs: number;
  /** Minimum time between two sends; 0 for an idempotent replay. */
  cooldownMs: number;
  /** The most codes the challenge may ever have, the first included. */
  maxSends: number;
  /** How long the store keeps a challenge after its code expires. */
  retentionMs: number;
  /**
   * Keep the current code when it is still valid and sealed: the send is
   * counted and the cooldown starts again, but the code, its HMAC and its
   * expiry stay. An expired code is replaced by `codeHmac` as usual.
   */
  keepLiveCode?: boolean;
  /** The new code sealed, stored when the code is replaced; absent leaves none. */
  sealedCode?: string;
}

/** The outcome of {@link Store.replaceCode}. */
export type ReplaceCodeResult =
  | { kind: "replaced"; record: ChallengeRecord }
  | { kind: "not_found" }
  | { kind: "not_pending"; record: ChallengeRecord }
  | { kind: "cooldown"; retryAfterMs: number }
  | { kind: "send_limit" };

/** Input to {@link Store.createChallenge}. */
export interface CreateChallengeInput {
  record: ChallengeRecord;
  /**
   * Keyed hashes of the challenge's recipients (tenant, channel and
   * recipient; see otp/recipient-index.ts) to point at this challenge until
   * it is forgotten (its retention), set in the same step as the create where the store can
   * (a single Redis, memory), so Verify can name a recipient instead of an id.
   */
  recipientIndex?: string[];
  /** Limits and usage counted in the same step, before the challenge is stored. */
  charges?: CallCharges;
}

/** The outcome of {@link Store.createChallenge}. */
export type CreateChallengeResult =
  | {
      kind: "created";
      /** Buckets this call brought to 80 % of their limit in the current window (quota warnings). */
      nearLimit?: string[];
    }
  | { kind: "replay"; record: ChallengeRecord }
  | { kind: "conflict" }
  | { kind: "refused"; refusal: LimitRefusal };

/** Challenges: each change one atomic step, so attempts and successes stay exact under any concurrency. */
export interface ChallengeStore {
  /**
   * Stores a new challenge unless one with its id exists: then it answers
   * "replay" when both carry the same idempotency fingerprint, "conflict" otherwise.
   */
  createChallenge(input: CreateChallengeInput): Promise<CreateChallengeResult>;
  getChallenge(id: string, nowMs: number): Promise<ChallengeRecord | undefined>;
  /**
   * The id of the latest challenge created for a recipient index key (see
   * {@link CreateChallengeInput.recipientIndex}) while the challenge is kept (its retention); undefined otherwise.
   */
  findByRecipient(indexKey: string, nowMs: number): Promise<string | undefined>;
  /**
   * Counts an attempt and checks the code, in that order and as one step, so
   * that no number of concurrent calls gets more than `maxAttempts` guesses or
   * two successes. Returns undefined for an unknown id (or another tenant's,
   * see {@link VerifyInput.tenantId}). With charges, a refusal by one of them
   * is answered before the id is looked up, and spends no attempt.
   */
  verify(id: string, input: VerifyInput): Promise<VerifyStepResult | undefined>;
  /** Cancels a pending challenge; returns the record as it stands after the call. */
  cancel(id: string, nowMs: number): Promise<ChallengeRecord | undefined>;
  /** Issues a new code for a pending or expired challenge, under the cooldown and the send cap. */
  replaceCode(id: string, input: ReplaceCodeInput): Promise<ReplaceCodeResult>;
  /** Records what happened to the latest send of a challenge. */
  setDeliveryAttempts(id: string, attempts: DeliveryAttemptRecord[], nowMs: number): Promise<void>;
  /**
   * Claims a fallback on silence for the caller alone (see applyClaimFallback
   * in challenge-transitions.ts): the record when the challenge is still
   * pending and its fallback generation is still `gen`, else undefined.
   */
  claimFallback(id: string, gen: number, nowMs: number): Promise<ChallengeRecord | undefined>;
}
