import type { RateLimit } from "../config/index.js";
import type { AlphabetName } from "../otp/alphabets.js";

/** A channel a message can travel through. */
export type ChannelKind = "telegram" | "sms" | "whatsapp" | "email" | "outbox";

/** One place a code should be sent to, as stored with its challenge. */
export interface TargetRecord {
  channel: ChannelKind;
  recipient: string;
  selfDestructSeconds: number;
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

/**
 * One limit a call is charged against as part of the store step it makes
 * (Generate's create, Verify's check): one hit against `key` in the bucket
 * named `bucket`, in a fixed window of `limit.windowMs`.
 */
export interface LimitCharge {
  bucket: string;
  key: string;
  limit: RateLimit;
  /**
   * When the node holding this counter cannot be reached, count nothing and
   * let the call through (the per-IP buckets); otherwise the call fails.
   * Only matters where the counter can live apart from the challenge.
   */
  failOpen?: boolean;
  /** Keep the counter beside the challenge the call is about (see {@link ConsumeOptions}). */
  withChallenge?: boolean;
}

/** A tenant's usage counters to add one to, for the UTC day of `atMs` (see {@link Store.incrementUsage}). */
export interface UsageCharge {
  tenantId: string;
  counters: string[];
  atMs: number;
  /** Told when the counters could not be written; usage is best effort and never fails a call. */
  onError?: (err: unknown) => void;
}

/**
 * What a call is charged as part of its one store step. The limits are
 * counted in order, and the first one over its limit refuses the call:
 * limits after it are not charged and the step changes nothing else.
 */
export interface CallCharges {
  limits: LimitCharge[];
  usage?: UsageCharge;
  /** Told of each fail-open limit skipped because its node was unreachable. */
  onFailedOpen?: (bucket: string, err: unknown) => void;
}

/** A call refused by one of its {@link CallCharges}. */
export interface LimitRefusal {
  bucket: string;
  /** How long until a hit would be allowed again. */
  retryAfterMs: number;
}

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
  /** Limits and usage counted in the same step, before the challenge is stored. */
  charges?: CallCharges;
}

/** The outcome of {@link Store.createChallenge}. */
export type CreateChallengeResult =
  | { kind: "created" }
  | { kind: "replay"; record: ChallengeRecord }
  | { kind: "conflict" }
  | { kind: "refused"; refusal: LimitRefusal };

/** A message the development outbox recorded instead of sending. */
export interface OutboxEntry {
  id: string;
  /** The tenant whose message this is; stamped by the tenant-scoped store. */
  tenantId?: string;
  channel: ChannelKind;
  recipient: string;
  text: string;
  challengeId: string;
  createdAtMs: number;
}

/** Filters for {@link Store.listOutbox}. */
export interface OutboxFilter {
  tenantId?: string;
  recipient?: string;
  challengeId?: string;
  limit: number;
}

/** One status change of a delivery. */
export interface DeliveryEventRecord {
  status: "queued" | "sent" | "delivered" | "failed" | "deleted";
  atMs: number;
  /** For "failed", the machine-readable reason. */
  reason: string;
  /** The provider attempt, counting from 1; 0 when not about one attempt. */
  attempt: number;
}

/** A message sent (or being sent) over a channel, and what became of it. */
export interface DeliveryRecord {
  id: string;
  /** The tenant that owns the delivery; stamped by the tenant-scoped store. */
  tenantId?: string;
  channel: ChannelKind;
  recipientMasked: string;
  challengeId: string;
  createdAtMs: number;
  /** For a self-destructing Telegram message, when it is deleted; 0 otherwise. */
  deleteAtMs: number;
  /** The provider's id for the message, once it accepted it. */
  providerMessageId: string;
  /** A hash of the Send request when it carried an idempotency key; empty otherwise. */
  idempotencyFingerprint: string;
  retainUntilMs: number;
  events: DeliveryEventRecord[];
}

/** The stored state of an authenticator (TOTP) factor. Its secret is sealed (encrypted). */
export interface TotpFactorRecord {
  id: string;
  /** The tenant that owns the factor; stamped by the tenant-scoped store. */
  tenantId?: string;
  accountName: string;
  issuer: string;
  /** The base32 secret, encrypted with AES-256-GCM; never stored in the clear. */
  sealedSecret: string;
  state: "pending" | "confirmed";
  createdAtMs: number;
  /** The last time step that verified; a step verifies at most once. -1 before the first. */
  lastUsedStep: number;
  /** Wrong codes since the last success or lock-out. */
  failures: number;
  lockedUntilMs: number;
  /** HMACs of the unused recovery codes. */
  recoveryHashes: string[];
  /** When the store may forget the factor: soon for a pending one, refreshed on use for an active one. */
  retainUntilMs: number;
}

/** Input to {@link Store.useTotpStep}. */
export interface UseTotpStepInput {
  step: number;
  nowMs: number;
  /** The state the factor must be in: "pending" for ConfirmTotp, "confirmed" for VerifyTotp. */
  requireState: "pending" | "confirmed";
  /** For ConfirmTotp: the recovery code HMACs to store as the factor becomes active. */
  recoveryHashes?: string[];
  retainUntilMs: number;
}

/** The outcome of a TOTP step in the store. */
export type TotpUseResult =
  | { kind: "ok"; record: TotpFactorRecord }
  | { kind: "replayed" }
  | { kind: "locked"; lockedUntilMs: number }
  | { kind: "wrong_state"; state: "pending" | "confirmed" }
  | { kind: "not_found" };

/** The outcome of counting a wrong TOTP code. */
export type TotpFailureResult =
  | { kind: "counted"; remaining: number; lockedUntilMs: number }
  | { kind: "locked"; lockedUntilMs: number }
  | { kind: "not_found" };

/** The outcome of a recovery code. */
export type TotpRecoveryResult =
  | { kind: "ok"; remaining: number }
  | { kind: "invalid" }
  | { kind: "locked"; lockedUntilMs: number }
  | { kind: "wrong_state"; state: "pending" | "confirmed" }
  | { kind: "not_found" };

// A limit is written in the configuration (`10/1m`), so config/ owns its type.
export type { RateLimit };

/** Options for {@link Store.consume}. */
export interface ConsumeOptions {
  /**
   * Keeps the counter beside this challenge's record (the same shard, the
   * same Cluster slot), so that it is reachable exactly when the challenge is:
   * a fault elsewhere never blocks the challenge's own limit, and the limit
   * is never skipped while the challenge can be used.
   */
  withChallenge?: string;
}

/** The outcome of {@link Store.consume}. */
export interface RateLimitResult {
  allowed: boolean;
  /** Hits left in the current window. */
  remaining: number;
  /** When refused, how long until a hit would be allowed again. */
  retryAfterMs: number;
}

/**
 * All state of the service. Every method is one atomic step: concurrent calls
 * never see or leave a half-made change, and every record expires.
 */
export interface Store {
  /** A short name for banners and logs, for example "memory". */
  readonly description: string;
  /**
   * Stores a new challenge unless one with its id exists: then it answers
   * "replay" when both carry the same idempotency fingerprint, "conflict" otherwise.
   */
  createChallenge(input: CreateChallengeInput): Promise<CreateChallengeResult>;
  getChallenge(id: string, nowMs: number): Promise<ChallengeRecord | undefined>;
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
   * Counts one hit against `key` in the bucket named `bucket` (for example
   * "generate_ip") and tells whether it is within `limit`, as one atomic step.
   */
  consume(
    bucket: string,
    key: string,
    limit: RateLimit,
    options?: ConsumeOptions,
  ): Promise<RateLimitResult>;
  /**
   * Stores a new delivery unless one with its id exists: then "replay" when
   * both carry the same idempotency fingerprint, "conflict" otherwise.
   */
  createDelivery(
    record: DeliveryRecord,
  ): Promise<
    { kind: "created" } | { kind: "replay"; record: DeliveryRecord } | { kind: "conflict" }
  >;
  getDelivery(id: string, nowMs: number): Promise<DeliveryRecord | undefined>;
  /**
   * Appends a status event, and sets the provider's message id and the
   * self-destruct time when given (non-empty, non-zero); false for an unknown id.
   */
  appendDeliveryEvent(
    id: string,
    event: DeliveryEventRecord,
    providerMessageId?: string,
    deleteAtMs?: number,
  ): Promise<boolean>;
  /** The delivery a provider's message id belongs to, for status callbacks. */
  findDeliveryByProviderId(
    channel: ChannelKind,
    providerMessageId: string,
  ): Promise<string | undefined>;
  /** Adds one to a tenant's usage counter for the UTC day containing `atMs`; kept 40 days. */
  incrementUsage(tenantId: string, counter: string, atMs: number): Promise<void>;
  /** A tenant's usage counters for the given UTC days (YYYY-MM-DD). */
  getUsage(tenantId: string, days: string[]): Promise<Record<string, Record<string, number>>>;
  /** Stores a new, pending TOTP factor. */
  createTotpFactor(record: TotpFactorRecord): Promise<void>;
  getTotpFactor(id: string, nowMs: number): Promise<TotpFactorRecord | undefined>;
  /**
   * Records that a right code's time step was used, as one step: refused
   * while locked out, or when the step is not newer than the last one used,
   * so two concurrent submissions of one code give one success.
   */
  useTotpStep(id: string, input: UseTotpStepInput): Promise<TotpUseResult>;
  /** Counts a wrong code; the `maxFailures`-th starts a lock-out of `lockoutMs`. */
  recordTotpFailure(
    id: string,
    input: { nowMs: number; maxFailures: number; lockoutMs: number },
  ): Promise<TotpFailureResult>;
  /** Uses up a recovery code if one of `candidateHashes` is unused; each works once. */
  useTotpRecoveryCode(
    id: string,
    input: { candidateHashes: string[]; nowMs: number; retainUntilMs: number },
  ): Promise<TotpRecoveryResult>;
  deleteTotpFactor(id: string): Promise<boolean>;
  /** Appends a message to the development outbox. */
  appendOutbox(entry: OutboxEntry, retentionMs: number): Promise<void>;
  /** Lists outbox messages, newest first. */
  listOutbox(filter: OutboxFilter, nowMs: number): Promise<OutboxEntry[]>;
  /**
   * Resolves when the store can serve every call: every shard, or every
   * master of a Cluster with all slots covered, answers. Rejects otherwise,
   * so readiness fails while any share of the records is out of reach.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}
