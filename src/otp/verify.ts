import { type CallCharges, chargesWithLimits, type LimitCharge } from "../tenancy/limit-store.js";
import { type AlphabetName, normalizeCode } from "./alphabets.js";
import { bindingHash } from "./binding-hash.js";
import { type ChallengeDeps, rateLimitedBy } from "./challenge-deps.js";
import { challengeStatus } from "./challenge-transitions.js";
import type { CallLimits, VerifyInput, VerifyResult } from "./challenge-types.js";
import type { CodeHasher } from "./code-hasher.js";
import { otpErrors } from "./errors.js";
import { validateCode } from "./validate.js";
import { challengeOf } from "./verify-by-recipient.js";

const alphabetNames: readonly AlphabetName[] = ["numeric", "alphanumeric", "words"];

/**
 * Verify: checks a presented code (and binding) in one store step, charged
 * against the call's limits and the per-challenge limit in that same step.
 * A wrong code is an outcome, not an error; an unknown id is `NOT_FOUND`.
 */
export async function verifyChallenge(
  deps: ChallengeDeps,
  input: VerifyInput,
  limits: CallLimits,
): Promise<VerifyResult> {
  const code = validateCode(input.code);
  const { id, limits: left } = await challengeOf(deps, input, limits);
  const charges = verifyCharges(deps, id, left);
  const presentedBinding = bindingHash(input.binding);
  const result = await deps.store.verify(id, {
    candidateHmacs: [],
    // The challenge's alphabet is not read first: the code is offered as each alphabet reads it.
    candidatesByAlphabet: candidatesFor(deps.hasher, id, code),
    bindingHash: presentedBinding,
    nowMs: deps.now(),
    ...(charges === undefined ? {} : { charges }),
  });
  if (result?.refused !== undefined) throw rateLimitedBy(deps, result.refused);
  if (result === undefined) throw otpErrors.notFound();
  deps.observer?.verified(result.outcome, result.record);
  return {
    id,
    outcome: result.outcome,
    bindingHash: presentedBinding,
    attemptsRemaining: Math.max(0, result.record.maxAttempts - result.record.attempts),
    status: challengeStatus(result.record, deps.now()),
    verifiedAtMs: result.record.verifiedAtMs,
  };
}

// The call's charges plus the per-challenge limit. Charged in the verify step
// itself, before the lookup, so a refusal says nothing about whether the
// challenge exists and costs no attempt; beside the challenge, so a fault
// elsewhere never blocks or skips it.
function verifyCharges(
  deps: ChallengeDeps,
  id: string,
  limits: CallLimits,
): CallCharges | undefined {
  const perChallenge = deps.verifyPerChallenge;
  const chargedLimits: LimitCharge[] = [...(limits.charges?.limits ?? [])];
  if (perChallenge !== "off") {
    chargedLimits.push({
      bucket: "verify_challenge",
      key: id,
      limit: perChallenge,
      withChallenge: true,
    });
  }
  return chargedLimits.length === 0 && limits.charges === undefined
    ? undefined
    : chargesWithLimits(limits.charges, chargedLimits);
}

// HMACs of a presented code under every alphabet's reading of it; one
// reading shared by several alphabets is hashed once.
function candidatesFor(hasher: CodeHasher, id: string, code: string) {
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
}
