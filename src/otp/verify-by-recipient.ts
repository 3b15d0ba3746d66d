import { isStoreUnreachable } from "../core/store-unavailable.js";
import { idempotencySpace } from "../core/tenant-scope.js";
import { deliveryErrors } from "../delivery/errors.js";
import { checkRecipient, openRecipientPolicy } from "../delivery/recipients.js";
import type { LimitCharge, LimitRefusal } from "../tenancy/limit-store.js";
import { type ChallengeDeps, rateLimitedBy } from "./challenge-deps.js";
import type { CallLimits, VerifyInput } from "./challenge-types.js";
import { otpErrors } from "./errors.js";
import { recipientIndexKey } from "./recipient-index.js";
import { validateId } from "./validate.js";

/**
 * The challenge a Verify is about, and the limits left for its verify step.
 * By id: the id, limits unchanged. By recipient: the latest challenge sent
 * there, read from the recipient index (one `GET`); when the service has a
 * limit store, the call's limits are charged in that same trip, in parallel
 * with the read, so the verify step that follows is the second and last trip
 * on every topology (on a single Redis, and on shards and Cluster, where the
 * index lives in its own slot). A recipient with no live challenge gets an id
 * derived from its index key, which no challenge has: the verify step then
 * answers `not_found` exactly as for an unknown id, after the same limits.
 */
export async function challengeOf(
  deps: ChallengeDeps,
  input: VerifyInput,
  limits: CallLimits,
): Promise<{ id: string; limits: CallLimits }> {
  const recipient = input.recipient ?? "";
  if (recipient === "") {
    if (input.channel !== undefined) throw otpErrors.verifySubjectInvalid();
    return { id: validateId(input.id), limits };
  }
  if (input.id !== "" || input.channel === undefined) throw otpErrors.verifySubjectInvalid();
  if (input.channel === "invalid") throw deliveryErrors.channelInvalid("channel");
  const checked = checkRecipient(input.channel, recipient, openRecipientPolicy);
  if (!checked.ok) throw deliveryErrors.recipientInvalid("recipient", input.channel);
  const key = recipientIndexKey(deps.hasher, deps.scope, input.channel, checked.recipient);
  const charges = limits.charges;
  const ahead = deps.limits === undefined ? [] : (charges?.limits ?? []);
  const [found, refusal] = await Promise.all([
    deps.store.findByRecipient(key, deps.now()),
    chargeAll(deps, ahead, charges?.onFailedOpen),
  ]);
  if (refusal !== undefined) throw rateLimitedBy(deps, refusal);
  const id =
    found ??
    deps.hasher.idForIdempotencyKey(`\0recipient-index-miss\0${key}`, idempotencySpace(deps.scope));
  if (ahead.length === 0 || charges === undefined) return { id, limits };
  // Charged already: the verify step keeps the usage and the per-challenge limit.
  return { id, limits: { ...limits, charges: { ...charges, limits: [] } } };
}

// Charges limits in parallel and judges them in order, as the store's own
// charging does: the first refusal decides; a per-IP limit whose node is
// unreachable lets the call through, any other failure fails it.
async function chargeAll(
  deps: ChallengeDeps,
  charges: readonly LimitCharge[],
  onFailedOpen: ((bucket: string, err: unknown) => void) | undefined,
): Promise<LimitRefusal | undefined> {
  const store = deps.limits;
  if (store === undefined || charges.length === 0) return undefined;
  const settled = await Promise.allSettled(
    charges.map((c) => store.consume(c.bucket, c.key, c.limit)),
  );
  for (const [i, outcome] of settled.entries()) {
    const charge = charges[i] as LimitCharge;
    if (outcome.status === "rejected") {
      if (charge.failOpen === true && isStoreUnreachable(outcome.reason)) {
        onFailedOpen?.(charge.bucket, outcome.reason);
        continue;
      }
      throw outcome.reason;
    }
    if (!outcome.value.allowed) {
      return { bucket: charge.bucket, retryAfterMs: outcome.value.retryAfterMs };
    }
  }
  return undefined;
}
