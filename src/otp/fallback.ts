import type { EffectiveSettings } from "../tenancy/effective-settings.js";
import type { ChallengeDeps } from "./challenge-deps.js";
import type { ChallengeRecord, DeliveryAttemptRecord } from "./challenge-store.js";
import type { FallbackTimer } from "./challenge-types.js";

export type { FallbackTimer, FallbackTimers } from "./challenge-types.js";

/**
 * After a send: when the target that accepted the code asks to be followed
 * on silence (`fallbackAfterSeconds`) and a later target exists, sets the
 * timer that tries the later targets if the code is still unused by then.
 * `offset` is the index of `attempts[0]` among the challenge's targets.
 */
export async function setFallbackTimer(
  deps: ChallengeDeps,
  record: ChallengeRecord,
  attempts: readonly DeliveryAttemptRecord[],
  offset = 0,
): Promise<void> {
  if (deps.fallbackTimers === undefined) return;
  const accepted = attempts.findIndex((a) => a.status === "accepted");
  if (accepted < 0) return;
  const index = offset + accepted;
  const waitSeconds = record.targets[index]?.fallbackAfterSeconds ?? 0;
  if (waitSeconds === 0 || index + 1 >= record.targets.length) return;
  const timer: FallbackTimer = {
    challengeId: record.id,
    tenantId: record.tenantId ?? deps.scope?.tenantId ?? "default",
    gen: record.fallbackGen ?? 0,
    from: index + 1,
  };
  await deps.fallbackTimers.set(timer, deps.now() + waitSeconds * 1000);
}

/**
 * After a send: when a message went out on a channel that does not take it
 * back by itself when the code expires, sets the timer that withdraws it
 * then, unless the code is used first (Verify and Cancel withdraw at once).
 */
export async function setExpiryWithdrawal(
  deps: ChallengeDeps,
  record: ChallengeRecord,
  attempts: readonly DeliveryAttemptRecord[],
): Promise<void> {
  const timers = deps.expiryWithdrawals;
  if (timers === undefined) return;
  if (!attempts.some((a) => a.status === "accepted" && timers.needed(a.channel))) return;
  const tenantId = record.tenantId ?? deps.scope?.tenantId ?? "default";
  await timers.set({ challengeId: record.id, tenantId }, record.expiresAtMs);
}

/**
 * A fallback timer came due: claims it in the store (one replica, once;
 * nothing when the code was verified, canceled, exhausted, expired or sent
 * again meanwhile), then sends the same code to the remaining targets in
 * order, records every attempt with the challenge's earlier ones, and sets
 * the next timer when the target that accepts asks for one. Answers what was
 * attempted, or undefined when the timer no longer applied.
 */
export async function runFallback(
  deps: ChallengeDeps,
  timer: FallbackTimer,
  settings?: EffectiveSettings,
): Promise<DeliveryAttemptRecord[] | undefined> {
  const record = await deps.store.claimFallback(timer.challengeId, timer.gen, deps.now());
  if (record === undefined) return undefined;
  const sealed = record.sealedCode;
  const code = sealed === undefined ? undefined : deps.codeSeal?.open(record.id, sealed);
  if (code === undefined) return undefined;
  const rest = record.targets.slice(timer.from);
  const { attempts } = await deps.dispatcher.deliver(
    rest,
    {
      code,
      ttlSeconds: Math.max(1, Math.ceil((record.expiresAtMs - deps.now()) / 1000)),
      ...(record.locale === undefined || record.locale === "" ? {} : { locale: record.locale }),
      // The tenant's templates, brand and send quotas, as the first send had them.
      ...(settings === undefined ? {} : { style: settings }),
    },
    record.id,
    {
      ...(settings === undefined ? {} : { settings }),
      ...(deps.scope === undefined ? {} : { scope: deps.scope }),
    },
  );
  const all = [...record.deliveryAttempts.slice(0, timer.from), ...attempts];
  await deps.store.setDeliveryAttempts(record.id, all, deps.now());
  await setFallbackTimer(deps, { ...record, deliveryAttempts: all }, attempts, timer.from);
  await setExpiryWithdrawal(deps, record, attempts);
  return attempts;
}
