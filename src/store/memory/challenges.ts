import type {
  ChallengeRecord,
  ChallengeStore,
  CreateChallengeInput,
  CreateChallengeResult,
  DeliveryAttemptRecord,
  ReplaceCodeInput,
  ReplaceCodeResult,
  VerifyInput,
  VerifyOutcome,
} from "../../otp/challenge-store.js";
import {
  applyCancel,
  applyClaimFallback,
  applyDeliveryAttempts,
  applyReplaceCode,
  applyVerify,
} from "../../otp/challenge-transitions.js";
import { chargeCall } from "./limits.js";
import type { MemoryState } from "./memory-state.js";

/** The challenge, unless it is missing or past its retention (then it is dropped). */
function live(state: MemoryState, id: string, nowMs: number): ChallengeRecord | undefined {
  const record = state.challenges.get(id);
  if (record === undefined) return undefined;
  if (nowMs >= record.retainUntilMs) {
    state.challenges.delete(id);
    return undefined;
  }
  return record;
}

const ownedBy = (record: ChallengeRecord, tenantId: string | undefined) =>
  tenantId === undefined || (record.tenantId ?? "default") === tenantId;

// Records handed out are copies, so callers cannot change stored state by accident.
const copy = (record: ChallengeRecord): ChallengeRecord => structuredClone(record);

/**
 * The challenges: one map entry each, changed by the domain's transition
 * rules. Generate and Verify charge their limits and usage first, as the
 * Redis script does; nothing is awaited after that until the change is made.
 */
export function createMemoryChallenges(state: MemoryState): ChallengeStore {
  const { challenges } = state;
  return {
    async createChallenge(input: CreateChallengeInput): Promise<CreateChallengeResult> {
      const { record } = input;
      const nearLimit: string[] = [];
      const refusal = await chargeCall(state, input.charges, nearLimit);
      if (refusal !== undefined) return { kind: "refused", refusal };
      const existing = live(state, record.id, record.createdAtMs);
      if (existing !== undefined) {
        const same =
          existing.idempotencyFingerprint !== "" &&
          existing.idempotencyFingerprint === record.idempotencyFingerprint;
        return same ? { kind: "replay", record: copy(existing) } : { kind: "conflict" };
      }
      challenges.set(record.id, copy(record));
      for (const key of input.recipientIndex ?? []) {
        state.recipientIndex.set(key, { id: record.id, untilMs: record.retainUntilMs });
      }
      return nearLimit.length === 0 ? { kind: "created" } : { kind: "created", nearLimit };
    },

    async findByRecipient(indexKey: string, nowMs: number) {
      const entry = state.recipientIndex.get(indexKey);
      if (entry === undefined || nowMs >= entry.untilMs) return undefined;
      return entry.id;
    },

    async getChallenge(id: string, nowMs: number) {
      const record = live(state, id, nowMs);
      return record === undefined ? undefined : copy(record);
    },

    async verify(id: string, input: VerifyInput) {
      const refused = await chargeCall(state, input.charges);
      if (refused !== undefined) return { refused };
      const record = live(state, id, input.nowMs);
      if (record === undefined || !ownedBy(record, input.tenantId)) return undefined;
      const result: { outcome: VerifyOutcome; record: ChallengeRecord } = applyVerify(
        record,
        input,
      );
      challenges.set(id, result.record);
      return { outcome: result.outcome, record: copy(result.record) };
    },

    async cancel(id: string, nowMs: number) {
      const record = live(state, id, nowMs);
      if (record === undefined) return undefined;
      const next = applyCancel(record, nowMs);
      challenges.set(id, next);
      return copy(next);
    },

    async replaceCode(id: string, input: ReplaceCodeInput): Promise<ReplaceCodeResult> {
      const record = live(state, id, input.nowMs);
      if (record === undefined) return { kind: "not_found" };
      const result = applyReplaceCode(record, input);
      if (result.kind === "replaced") {
        challenges.set(id, result.record);
        return { kind: "replaced", record: copy(result.record) };
      }
      return result;
    },

    async claimFallback(id: string, gen: number, nowMs: number) {
      const record = live(state, id, nowMs);
      const claimed = record === undefined ? undefined : applyClaimFallback(record, gen, nowMs);
      if (claimed === undefined) return undefined;
      challenges.set(id, claimed);
      return copy(claimed);
    },

    async setDeliveryAttempts(id: string, attempts: DeliveryAttemptRecord[], nowMs: number) {
      const record = live(state, id, nowMs);
      if (record !== undefined) challenges.set(id, applyDeliveryAttempts(record, attempts));
    },
  };
}
