import type { ChallengeDeps } from "./challenge-deps.js";
import { challengeStatus } from "./challenge-transitions.js";
import type { ChallengeStatusName, ChallengeView } from "./challenge-types.js";
import { challengeView } from "./challenge-view.js";
import { otpErrors } from "./errors.js";
import { validateId } from "./validate.js";

/** GetChallenge: where a challenge stands, never its code; an unknown id is `NOT_FOUND`. */
export async function getChallenge(deps: ChallengeDeps, rawId: string): Promise<ChallengeView> {
  const id = validateId(rawId);
  const record = await deps.store.getChallenge(id, deps.now());
  if (record === undefined) throw otpErrors.notFound();
  return challengeView(deps, record);
}

/** Cancel: retires a challenge's code and answers the status it is left in. */
export async function cancelChallenge(
  deps: ChallengeDeps,
  rawId: string,
): Promise<ChallengeStatusName> {
  const id = validateId(rawId);
  const record = await deps.store.cancel(id, deps.now());
  if (record === undefined) throw otpErrors.notFound();
  const status = challengeStatus(record, deps.now());
  if (status === "canceled") deps.observer?.canceled?.(record);
  return status;
}
