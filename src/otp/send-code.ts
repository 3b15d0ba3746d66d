import type { OtpError } from "../core/otp-error.js";
import type { ChallengeDeps } from "./challenge-deps.js";
import type { ChallengeRecord } from "./challenge-store.js";
import type { CallLimits, IssuedCode } from "./challenge-types.js";
import { issuedCode } from "./challenge-view.js";
import { otpErrors } from "./errors.js";
import { setExpiryWithdrawal, setFallbackTimer } from "./fallback.js";

/**
 * Sends a code to the challenge's targets, in order, and records every
 * attempt with the challenge. Only for a challenge with targets: sendOrFail
 * answers one without any before calling it.
 */
export async function deliverCode(
  deps: ChallengeDeps,
  record: ChallengeRecord,
  code: string,
  limits: CallLimits,
): Promise<{ record: ChallengeRecord; retryAfterMs: number; refusal?: OtpError }> {
  const { attempts, retryAfterMs, refusal } = await deps.dispatcher.deliver(
    record.targets,
    {
      code,
      // What is left of the code's life: the whole TTL for a new code, less for one sent again.
      ttlSeconds: Math.max(1, Math.ceil((record.expiresAtMs - deps.now()) / 1000)),
      ...(record.locale === undefined || record.locale === "" ? {} : { locale: record.locale }),
      ...(limits.settings === undefined ? {} : { style: limits.settings }),
    },
    record.id,
    limits,
  );
  await deps.store.setDeliveryAttempts(record.id, attempts, deps.now());
  return { record: { ...record, deliveryAttempts: attempts }, retryAfterMs, refusal };
}

/**
 * Sends a freshly issued code and answers what Generate and Resend return.
 * When no target accepted it, fails with `RATE_LIMITED` (every target was
 * over a send quota) or `DELIVERY_FAILED`; with `cancelOnFailure` (a first
 * code) the challenge is canceled first.
 */
export async function sendOrFail(
  deps: ChallengeDeps,
  record: ChallengeRecord,
  code: string,
  cancelOnFailure: boolean,
  limits: CallLimits,
): Promise<IssuedCode> {
  // Nothing to send (the code is in the answer): no delivery, no timers, no extra turn.
  if (record.targets.length === 0) return issuedCode(deps, record, code);
  const {
    record: delivered,
    retryAfterMs,
    refusal,
  } = await deliverCode(deps, record, code, limits);
  await setFallbackTimer(deps, delivered, delivered.deliveryAttempts);
  await setExpiryWithdrawal(deps, delivered, delivered.deliveryAttempts);
  if (
    delivered.targets.length > 0 &&
    !delivered.deliveryAttempts.some((a) => a.status === "accepted")
  ) {
    // Nobody can ever receive this code: retire it rather than leave a live, unreachable code.
    if (cancelOnFailure) await deps.store.cancel(record.id, deps.now());
    // Every target refused by the fraud guard: its error, with the cool-down left.
    if (
      refusal !== undefined &&
      delivered.deliveryAttempts.every((a) => a.errorReason === refusal.reason)
    ) {
      throw refusal;
    }
    if (delivered.deliveryAttempts.every((a) => a.errorReason === "RATE_LIMITED")) {
      // The per-recipient or the tenant's per-channel quota: both are send quotas.
      deps.observer?.rateLimited("sends", deps.scope?.tenantId);
      throw otpErrors.rateLimited("sends", retryAfterMs);
    }
    throw otpErrors.deliveryFailed(delivered.targets.map((t) => t.channel));
  }
  return issuedCode(deps, delivered, code);
}
