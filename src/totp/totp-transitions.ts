import type {
  TotpFactorRecord,
  TotpFailureResult,
  TotpRecoveryResult,
  TotpUseResult,
  UseTotpStepInput,
} from "./totp-store.js";

/**
 * The state transitions of a TOTP factor, as pure functions. The memory store
 * applies them directly; the Redis scripts follow the same steps.
 */

/** Uses a verified time step, unless locked, in the wrong state, or replayed. */
export function applyTotpStep(
  record: TotpFactorRecord,
  input: UseTotpStepInput,
): { result: TotpUseResult; record: TotpFactorRecord } {
  if (input.nowMs < record.lockedUntilMs) {
    return { result: { kind: "locked", lockedUntilMs: record.lockedUntilMs }, record };
  }
  if (record.state !== input.requireState) {
    return { result: { kind: "wrong_state", state: record.state }, record };
  }
  if (input.step <= record.lastUsedStep) return { result: { kind: "replayed" }, record };
  const next: TotpFactorRecord = {
    ...record,
    lastUsedStep: input.step,
    failures: 0,
    state: "confirmed",
    recoveryHashes: input.recoveryHashes ?? record.recoveryHashes,
    retainUntilMs: Math.max(record.retainUntilMs, input.retainUntilMs),
  };
  return { result: { kind: "ok", record: next }, record: next };
}

/** Counts a wrong code; reaching the limit starts a lock-out and resets the count. */
export function applyTotpFailure(
  record: TotpFactorRecord,
  input: { nowMs: number; maxFailures: number; lockoutMs: number },
): { result: TotpFailureResult; record: TotpFactorRecord } {
  if (input.nowMs < record.lockedUntilMs) {
    return { result: { kind: "locked", lockedUntilMs: record.lockedUntilMs }, record };
  }
  const failures = record.failures + 1;
  if (failures >= input.maxFailures) {
    const lockedUntilMs = input.nowMs + input.lockoutMs;
    return {
      result: { kind: "counted", remaining: 0, lockedUntilMs },
      record: { ...record, failures: 0, lockedUntilMs },
    };
  }
  return {
    result: { kind: "counted", remaining: input.maxFailures - failures, lockedUntilMs: 0 },
    record: { ...record, failures },
  };
}

/** Uses up a matching recovery code. */
export function applyTotpRecovery(
  record: TotpFactorRecord,
  input: { candidateHashes: string[]; nowMs: number; retainUntilMs: number },
): { result: TotpRecoveryResult; record: TotpFactorRecord } {
  if (input.nowMs < record.lockedUntilMs) {
    return { result: { kind: "locked", lockedUntilMs: record.lockedUntilMs }, record };
  }
  if (record.state !== "confirmed") {
    return { result: { kind: "wrong_state", state: record.state }, record };
  }
  const match = record.recoveryHashes.find((h) => input.candidateHashes.includes(h));
  if (match === undefined) return { result: { kind: "invalid" }, record };
  const recoveryHashes = record.recoveryHashes.filter((h) => h !== match);
  const next = {
    ...record,
    recoveryHashes,
    failures: 0,
    retainUntilMs: Math.max(record.retainUntilMs, input.retainUntilMs),
  };
  return { result: { kind: "ok", remaining: recoveryHashes.length }, record: next };
}
