import { generateCode, normalizeCode } from "./alphabets.js";
import type { ChallengeDeps, CodeSeal } from "./challenge-deps.js";
import type { ChallengeRecord } from "./challenge-store.js";
import { challengeStatus } from "./challenge-transitions.js";
import type { CallLimits, IssuedCode } from "./challenge-types.js";
import type { CodeHasher } from "./code-hasher.js";
import { otpErrors } from "./errors.js";
import { sendOrFail } from "./send-code.js";
import { validateId } from "./validate.js";

/** A fresh code for a challenge, and its HMAC as the store keeps it. */
export function newCode(
  hasher: CodeHasher,
  record: Pick<ChallengeRecord, "id" | "alphabet" | "codeLength">,
): { code: string; codeHmac: string } {
  const code = generateCode(record.alphabet, record.codeLength);
  return { code, codeHmac: hasher.hash(record.id, normalizeCode(record.alphabet, code)) };
}

/**
 * Gives a pending challenge a new code in place of its current one, within
 * its cap on sends and `cooldownMs` after its last code (0 skips the
 * cooldown, for an idempotent replay). Answers the updated record and the
 * new code; any refusal is thrown as its error.
 */
export async function replaceCode(
  deps: ChallengeDeps,
  id: string,
  cooldownMs: number,
  newCodePerSend = deps.newCodePerSend,
): Promise<{ record: ChallengeRecord; code: string }> {
  const { store, now } = deps;
  const existing = await store.getChallenge(id, now());
  if (existing === undefined) throw otpErrors.notFound();
  const { code, codeHmac } = newCode(deps.hasher, existing);
  const seal = existing.targets.length > 0 ? deps.codeSeal : undefined;
  const kept = seal === undefined || newCodePerSend ? undefined : keptCode(seal, existing);
  const result = await store.replaceCode(id, {
    codeHmac,
    nowMs: now(),
    cooldownMs,
    maxSends: deps.maxSends,
    retentionMs: deps.retentionMs,
    keepLiveCode: kept !== undefined,
    ...(seal === undefined ? {} : { sealedCode: seal.seal(id, code) }),
  });
  switch (result.kind) {
    case "not_found":
      throw otpErrors.notFound();
    case "not_pending":
      throw otpErrors.notPending(challengeStatus(result.record, now()));
    case "send_limit":
      throw otpErrors.sendLimitReached(deps.maxSends);
    case "cooldown":
      throw otpErrors.resendCooldown(result.retryAfterMs);
    case "replaced":
      // The store kept the live code unless it expired in the meantime.
      return {
        record: result.record,
        code: result.record.codeHmac === codeHmac ? code : (kept ?? code),
      };
  }
}

// The current code, when it is sealed, still valid and opens: what a Resend sends again.
function keptCode(seal: CodeSeal, record: ChallengeRecord): string | undefined {
  if (record.sealedCode === undefined || record.state !== "pending") return undefined;
  return seal.open(record.id, record.sealedCode);
}

/** Resend: the same challenge, its code (or a new one) sent to its targets again. */
export async function resendChallenge(
  deps: ChallengeDeps,
  rawId: string,
  limits: CallLimits,
): Promise<IssuedCode> {
  const id = validateId(rawId);
  const { record, code } = await replaceCode(
    deps,
    id,
    deps.cooldownMs,
    // The tenant's choice, else the service's.
    limits.settings?.newCodePerSend ?? deps.newCodePerSend,
  );
  return sendOrFail(deps, record, code, false, limits);
}
