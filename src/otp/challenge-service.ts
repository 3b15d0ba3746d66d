import { randomUUID } from "node:crypto";
import type { Dispatcher } from "../delivery/dispatcher.js";
import { openRecipientPolicy } from "../delivery/recipients.js";
import type { TargetRules } from "../delivery/targets.js";
import type { CallCharges, LimitCharge, LimitRefusal, RateLimit } from "../tenancy/limit-store.js";
import { type AlphabetName, generateCode, normalizeCode } from "./alphabets.js";
import { bindingHash, canonicalJson, type JsonValue } from "./binding-hash.js";
import type {
  ChallengeRecord,
  ChallengeStore,
  DeliveryAttemptRecord,
  VerifyOutcome,
} from "./challenge-store.js";
import { challengeStatus } from "./challenge-transitions.js";
import type { CodeHasher } from "./code-hasher.js";
import { otpErrors } from "./errors.js";
import {
  type GenerateInput,
  type ValidGenerateInput,
  validateCode,
  validateGenerate,
  validateId,
} from "./validate.js";

const alphabetNames: readonly AlphabetName[] = ["numeric", "alphanumeric", "words"];

/** Where a challenge stands, as clients see it. */
export type ChallengeStatusName = ReturnType<typeof challengeStatus>;

/** Hooks for counting what happens; metrics plug in here. */
export interface OtpObserver {
  generated(alphabet: string): void;
  verified(outcome: VerifyOutcome): void;
  rateLimited(limit: string): void;
}

/** Options for {@link createChallengeService}. */
export interface ChallengeServiceOptions {
  store: ChallengeStore;
  hasher: CodeHasher;
  dispatcher: Dispatcher;
  /**
   * Which recipients this service sends to, and defaults for targets; by
   * default any valid recipient on a channel the dispatcher has.
   */
  targetRules?: Omit<TargetRules, "usable">;
  /** Minimum seconds between two codes for one challenge. */
  resendCooldownSeconds: number;
  /** The most codes one challenge may have, the first included. */
  maxSends: number;
  /** How long a challenge stays readable after its code expires, in seconds. */
  retentionSeconds: number;
  /** Verify calls per challenge, counted before the challenge is looked up. */
  verifyPerChallenge?: RateLimit | "off";
  now?: () => number;
  observer?: OtpObserver;
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

/** The OTP domain: issues, checks, describes, cancels and re-issues codes. */
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

export interface ChallengeService {
  generate(input: GenerateInput, limits?: CallLimits): Promise<IssuedCode>;
  verify(
    input: {
      id: string;
      code: string;
      binding: { [key: string]: JsonValue } | undefined;
    },
    limits?: CallLimits,
  ): Promise<VerifyResult>;
  get(id: string): Promise<ChallengeView>;
  cancel(id: string): Promise<ChallengeStatusName>;
  resend(id: string, limits?: CallLimits): Promise<IssuedCode>;
}

/**
 * Creates the OTP domain over a store, a code hasher and a delivery
 * dispatcher. It speaks plain types; handlers translate to and from protobuf.
 */
export function createChallengeService(options: ChallengeServiceOptions): ChallengeService {
  const { store, hasher, dispatcher } = options;
  const now = options.now ?? Date.now;
  const cooldownMs = options.resendCooldownSeconds * 1000;
  const retentionMs = options.retentionSeconds * 1000;
  const rules: TargetRules = {
    recipients: options.targetRules?.recipients ?? openRecipientPolicy,
    telegramSelfDestructDefaultSeconds:
      options.targetRules?.telegramSelfDestructDefaultSeconds ?? 0,
    usable: (channel) => dispatcher.has(channel),
  };

  const issued = (record: ChallengeRecord, code: string): IssuedCode => ({
    id: record.id,
    expiresAtMs: record.expiresAtMs,
    code: record.targets.length === 0 ? code : "",
    deliveryId: record.deliveryAttempts.find((a) => a.status === "accepted")?.deliveryId ?? "",
    deliveryAttempts: record.deliveryAttempts,
    sendsRemaining: Math.max(0, options.maxSends - record.sends),
    resendAvailableAtMs: record.lastSentAtMs + cooldownMs,
  });

  // Sends the code to the challenge's targets and records every attempt.
  const deliver = async (
    record: ChallengeRecord,
    code: string,
    limits: CallLimits,
  ): Promise<{ record: ChallengeRecord; retryAfterMs: number }> => {
    if (record.targets.length === 0) return { record, retryAfterMs: 0 };
    const { attempts, retryAfterMs } = await dispatcher.deliver(
      record.targets,
      {
        code,
        ttlSeconds: record.ttlSeconds,
        ...(record.locale === undefined || record.locale === "" ? {} : { locale: record.locale }),
      },
      record.id,
      limits,
    );
    await store.setDeliveryAttempts(record.id, attempts, now());
    return { record: { ...record, deliveryAttempts: attempts }, retryAfterMs };
  };

  // Tells the observer, and answers as the interceptor's limits always have.
  const refused = (refusal: LimitRefusal) => {
    options.observer?.rateLimited(refusal.bucket);
    return otpErrors.rateLimited(refusal.bucket, refusal.retryAfterMs);
  };

  // HMACs of a presented code under every alphabet's reading of it; one
  // reading shared by several alphabets is hashed once.
  const candidatesFor = (id: string, code: string) => {
    const byAlphabet: Partial<Record<AlphabetName, string[]>> = {};
    const byReading = new Map<string, string[]>();
    for (const alphabet of alphabetNames) {
      const reading = normalizeCode(alphabet, code);
      if (reading === "") continue;
      let hmacs = byReading.get(reading);
      if (hmacs === undefined) {
        hmacs = hasher.candidates(id, reading);
        byReading.set(reading, hmacs);
      }
      byAlphabet[alphabet] = hmacs;
    }
    return byAlphabet;
  };

  const newCode = (record: Pick<ChallengeRecord, "id" | "alphabet" | "codeLength">) => {
    const code = generateCode(record.alphabet, record.codeLength);
    return { code, codeHmac: hasher.hash(record.id, normalizeCode(record.alphabet, code)) };
  };

  const replace = async (id: string, replayCooldownMs: number) => {
    const existing = await store.getChallenge(id, now());
    if (existing === undefined) throw otpErrors.notFound();
    const { code, codeHmac } = newCode(existing);
    const result = await store.replaceCode(id, {
      codeHmac,
      nowMs: now(),
      cooldownMs: replayCooldownMs,
      maxSends: options.maxSends,
      retentionMs,
    });
    switch (result.kind) {
      case "not_found":
        throw otpErrors.notFound();
      case "not_pending":
        throw otpErrors.notPending(challengeStatus(result.record, now()));
      case "send_limit":
        throw otpErrors.sendLimitReached(options.maxSends);
      case "cooldown":
        throw otpErrors.resendCooldown(result.retryAfterMs);
      case "replaced":
        return { record: result.record, code };
    }
  };

  const sendOrFail = async (
    record: ChallengeRecord,
    code: string,
    cancelOnFailure: boolean,
    limits: CallLimits,
  ) => {
    const { record: delivered, retryAfterMs } = await deliver(record, code, limits);
    if (
      delivered.targets.length > 0 &&
      !delivered.deliveryAttempts.some((a) => a.status === "accepted")
    ) {
      // Nobody can ever receive this code: retire it rather than leave a live, unreachable code.
      if (cancelOnFailure) await store.cancel(record.id, now());
      if (delivered.deliveryAttempts.every((a) => a.errorReason === "RATE_LIMITED")) {
        // The per-recipient or the tenant's per-channel quota: both are send quotas.
        options.observer?.rateLimited("sends");
        throw otpErrors.rateLimited("sends", retryAfterMs);
      }
      throw otpErrors.deliveryFailed(delivered.targets.map((t) => t.channel));
    }
    return issued(delivered, code);
  };

  return {
    async generate(raw, limits = {}) {
      const input = validateGenerate(raw, rules);
      const nowMs = now();
      const id =
        input.idempotencyKey === ""
          ? randomUUID()
          : hasher.idForIdempotencyKey(input.idempotencyKey);
      const { code, codeHmac } = newCode({ id, ...input });
      const expiresAtMs = nowMs + input.ttlSeconds * 1000;
      const record: ChallengeRecord = {
        id,
        codeHmac,
        bindingHash: bindingHash(input.binding),
        alphabet: input.alphabet,
        codeLength: input.codeLength,
        ttlSeconds: input.ttlSeconds,
        maxAttempts: input.maxAttempts,
        attempts: 0,
        state: "pending",
        createdAtMs: nowMs,
        expiresAtMs,
        verifiedAtMs: 0,
        sends: 1,
        lastSentAtMs: nowMs,
        retainUntilMs: expiresAtMs + retentionMs,
        targets: input.targets,
        deliveryAttempts: [],
        ...(input.locale === "" ? {} : { locale: input.locale }),
        idempotencyFingerprint: input.idempotencyKey === "" ? "" : fingerprint(hasher, input),
      };
      const created = await store.createChallenge(
        limits.charges === undefined ? { record } : { record, charges: limits.charges },
      );
      if (created.kind === "refused") throw refused(created.refusal);
      if (created.kind === "conflict") throw otpErrors.idempotencyKeyConflict();
      if (created.kind === "replay") {
        const prior = created.record;
        // A delivered code reached its recipient already: answer as the first call did.
        if (prior.targets.length > 0) return issued(prior, "");
        // The caller never saw the first code; the only safe answer is a fresh one.
        const replaced = await replace(prior.id, 0);
        return issued(replaced.record, replaced.code);
      }
      options.observer?.generated(input.alphabet);
      return sendOrFail(record, code, true, limits);
    },

    async verify(input, limits = {}) {
      const id = validateId(input.id);
      const code = validateCode(input.code);
      // Charged in the verify step itself, before the lookup, so a refusal
      // says nothing about whether the challenge exists and costs no attempt;
      // beside the challenge, so a fault elsewhere never blocks or skips it.
      const perChallenge = options.verifyPerChallenge ?? "off";
      const chargedLimits: LimitCharge[] = [...(limits.charges?.limits ?? [])];
      if (perChallenge !== "off") {
        chargedLimits.push({
          bucket: "verify_challenge",
          key: id,
          limit: perChallenge,
          withChallenge: true,
        });
      }
      const charges: CallCharges | undefined =
        chargedLimits.length === 0 && limits.charges === undefined
          ? undefined
          : { ...limits.charges, limits: chargedLimits };
      const presentedBinding = bindingHash(input.binding);
      const result = await store.verify(id, {
        candidateHmacs: [],
        // The challenge's alphabet is not read first: the code is offered as each alphabet reads it.
        candidatesByAlphabet: candidatesFor(id, code),
        bindingHash: presentedBinding,
        nowMs: now(),
        ...(charges === undefined ? {} : { charges }),
      });
      if (result?.refused !== undefined) throw refused(result.refused);
      if (result === undefined) throw otpErrors.notFound();
      options.observer?.verified(result.outcome);
      return {
        outcome: result.outcome,
        bindingHash: presentedBinding,
        attemptsRemaining: Math.max(0, result.record.maxAttempts - result.record.attempts),
        status: challengeStatus(result.record, now()),
        verifiedAtMs: result.record.verifiedAtMs,
      };
    },

    async get(rawId) {
      const id = validateId(rawId);
      const record = await store.getChallenge(id, now());
      if (record === undefined) throw otpErrors.notFound();
      return {
        id: record.id,
        status: challengeStatus(record, now()),
        attemptsRemaining: Math.max(0, record.maxAttempts - record.attempts),
        maxAttempts: record.maxAttempts,
        createdAtMs: record.createdAtMs,
        expiresAtMs: record.expiresAtMs,
        verifiedAtMs: record.verifiedAtMs,
        alphabet: record.alphabet,
        codeLength: record.codeLength,
        hasBinding: record.bindingHash !== "",
        sends: record.sends,
        sendsRemaining: Math.max(0, options.maxSends - record.sends),
        resendAvailableAtMs: record.lastSentAtMs + cooldownMs,
        deliveryAttempts: record.deliveryAttempts,
      };
    },

    async cancel(rawId) {
      const id = validateId(rawId);
      const record = await store.cancel(id, now());
      if (record === undefined) throw otpErrors.notFound();
      return challengeStatus(record, now());
    },

    async resend(rawId, limits = {}) {
      const id = validateId(rawId);
      const { record, code } = await replace(id, cooldownMs);
      return sendOrFail(record, code, false, limits);
    },
  };
}

// Two requests with one idempotency key must ask for the same thing. Keyed,
// because the request holds the recipients: a plain SHA-256 of it would be
// reversed by trying every phone number.
function fingerprint(hasher: CodeHasher, input: ValidGenerateInput): string {
  const { idempotencyKey: _key, ...rest } = input;
  return hasher.digest("generate-request", canonicalJson(rest as unknown as JsonValue));
}
