import type { TotpFactorRecord, TotpStore } from "../../totp/totp-store.js";
import { applyTotpFailure, applyTotpRecovery, applyTotpStep } from "../../totp/totp-transitions.js";
import type { MemoryState } from "./memory-state.js";

/** The factor, unless it is missing or past its retention (then it is dropped). */
function liveFactor(state: MemoryState, id: string, nowMs: number): TotpFactorRecord | undefined {
  const record = state.factors.get(id);
  if (record !== undefined && nowMs >= record.retainUntilMs) {
    state.factors.delete(id);
    return undefined;
  }
  return record;
}

/** TOTP factors: one map entry each, recovery hashes inside, changed by the domain's transition rules. */
export function createMemoryTotpFactors(state: MemoryState): TotpStore {
  const { factors } = state;
  return {
    async createTotpFactor(record) {
      factors.set(record.id, structuredClone(record));
    },

    async getTotpFactor(id, nowMs) {
      const record = liveFactor(state, id, nowMs);
      return record === undefined ? undefined : structuredClone(record);
    },

    async useTotpStep(id, input) {
      const record = liveFactor(state, id, input.nowMs);
      if (record === undefined) return { kind: "not_found" };
      const applied = applyTotpStep(record, input);
      factors.set(id, applied.record);
      return applied.result.kind === "ok"
        ? { kind: "ok", record: structuredClone(applied.record) }
        : applied.result;
    },

    async recordTotpFailure(id, input) {
      const record = liveFactor(state, id, input.nowMs);
      if (record === undefined) return { kind: "not_found" };
      const applied = applyTotpFailure(record, input);
      factors.set(id, applied.record);
      return applied.result;
    },

    async useTotpRecoveryCode(id, input) {
      const record = liveFactor(state, id, input.nowMs);
      if (record === undefined) return { kind: "not_found" };
      const applied = applyTotpRecovery(record, input);
      factors.set(id, applied.record);
      return applied.result;
    },

    async deleteTotpFactor(id) {
      return factors.delete(id);
    },
  };
}
