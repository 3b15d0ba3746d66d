import { randomUUID } from "node:crypto";
import type { OtpError } from "../core/otp-error.js";
import type { TenantScope } from "../core/tenant-scope.js";
import type { DeliveryAttemptRecord, TargetRecord } from "../otp/challenge-store.js";
import type { RateLimit } from "../tenancy/limit-store.js";
import type { Channel, CodeContent } from "./channel.js";
import { maskRecipient } from "./mask.js";
import { type AttemptLimits, attemptSend, beginDelivery, type SendDeps } from "./send-attempt.js";

/** Options for `Dispatcher.deliver`. */
export interface DeliverOptions {
  /**
   * How long the caller waits for the answer, in milliseconds (the RPC's
   * deadline): sends are cut short so that the answer, with every attempt
   * recorded, still reaches it.
   */
  timeoutMs?: number;
  /** The tenant's own send quotas (its settings), in place of the service's; see {@link SendQuotas}. */
  settings?: { limits: SendQuotas };
  /** The caller's tenant: its delivery records, quotas and fraud counts. */
  scope?: TenantScope;
}

/**
 * Send quotas a tenant set for itself: each replaces the service's
 * (`RATE_LIMIT_SENDS_PER_RECIPIENT`, `TENANT_QUOTA_SENDS_PER_CHANNEL`);
 * undefined keeps it.
 */
export interface SendQuotas {
  sendsPerRecipient?: RateLimit | "off" | undefined;
  tenantSendsPerChannel?: RateLimit | "off" | undefined;
}

/**
 * Whether a target may be sent to now. A refusal is a quota's
 * (`RATE_LIMITED`) unless it carries its own error, such as the fraud
 * guard's `FRAUD_SUSPECTED`.
 */
export interface Admission {
  allowed: boolean;
  retryAfterMs: number;
  /** The error to answer with when the call fails because of this refusal; its reason is recorded. */
  refusal?: OtpError;
}

/** Asks whether one more message may go to a target, under the given quotas. */
export type Admit = (
  target: TargetRecord,
  quotas: SendQuotas | undefined,
  scope: TenantScope | undefined,
) => Promise<Admission>;

/** What `Dispatcher.deliver` did. */
export interface DeliveryResult {
  attempts: DeliveryAttemptRecord[];
  /** When targets were refused by their quota, the shortest wait before one would be admitted. */
  retryAfterMs: number;
  /** The first refusal that carried its own error, if any target met one. */
  refusal?: OtpError;
}

/** What walking a list of targets needs beyond a single send. */
export interface DeliverDeps extends SendDeps {
  /** The fraud guard and the send quotas; a refused target is recorded as failed with RATE_LIMITED (or its refusal's reason). */
  admit?: Admit;
  /** The retry budget of a target that has a fallback after it, in milliseconds. */
  fallbackBudgetMs?: number;
}

/**
 * The time left before a caller's deadline, for one more send, keeping a
 * little for recording the outcome and answering; undefined without one.
 */
export function timeLeft(deadline: number | undefined): number | undefined {
  if (deadline === undefined) return undefined;
  return Math.max(1, deadline - performance.now() - answerMarginMs);
}

// Time kept back from a caller's deadline to record the outcome and answer.
const answerMarginMs = 250;

/**
 * Sends a code to each target in order until one channel accepts it; later
 * targets are recorded as skipped. Every target tried gets a delivery record
 * with its status history. Provider failures are in the result, not thrown.
 */
export async function deliverInOrder(
  deps: DeliverDeps,
  targets: readonly TargetRecord[],
  code: CodeContent,
  challengeId: string,
  options: DeliverOptions = {},
): Promise<DeliveryResult> {
  const deadline =
    options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
  const attempts: DeliveryAttemptRecord[] = [];
  let accepted = false;
  let retryAfterMs = 0;
  let refusal: OtpError | undefined;
  for (const [index, target] of targets.entries()) {
    const base = {
      channel: target.channel,
      recipientMasked: maskRecipient(target.recipient),
      viaOutbox: deps.viaOutbox(target.channel),
    };
    if (accepted) {
      attempts.push({ ...base, status: "skipped", deliveryId: "", errorReason: "" });
      continue;
    }
    const channel = deps.byKind.get(target.channel);
    if (channel === undefined) {
      attempts.push({
        ...base,
        status: "failed",
        deliveryId: "",
        errorReason: "CHANNEL_NOT_CONFIGURED",
      });
      continue;
    }
    if (deps.admit !== undefined) {
      const admission = await deps.admit(target, options.settings?.limits, deps.scope);
      if (!admission.allowed) {
        retryAfterMs =
          retryAfterMs === 0
            ? admission.retryAfterMs
            : Math.min(retryAfterMs, admission.retryAfterMs);
        refusal ??= admission.refusal;
        const errorReason = admission.refusal?.reason ?? "RATE_LIMITED";
        attempts.push({ ...base, status: "failed", deliveryId: "", errorReason });
        continue;
      }
    }
    const deliveryId = randomUUID();
    await beginDelivery(deps, { id: deliveryId, target, challengeId, idempotencyFingerprint: "" });
    const hasFallback = index < targets.length - 1;
    const limits = await limitsFor(deps, channel, hasFallback, deadline);
    const outcome = await attemptSend(
      deps,
      deliveryId,
      target,
      { kind: "code", code },
      challengeId,
      limits,
    );
    if (outcome.ok) {
      accepted = true;
      attempts.push({ ...base, status: "accepted", deliveryId, errorReason: "" });
    } else {
      attempts.push({ ...base, status: "failed", deliveryId, errorReason: outcome.reason });
    }
  }
  return refusal === undefined ? { attempts, retryAfterMs } : { attempts, retryAfterMs, refusal };
}

// With a fallback waiting, a channel gets a shorter budget, and a channel
// that is failing right now gets a single try.
async function limitsFor(
  deps: DeliverDeps,
  channel: Channel,
  hasFallback: boolean,
  deadline: number | undefined,
): Promise<AttemptLimits> {
  const budgets = [hasFallback ? deps.fallbackBudgetMs : undefined, timeLeft(deadline)];
  return {
    ...(budgets.some((b) => b !== undefined)
      ? { maxTotalMs: Math.min(...budgets.map((b) => b ?? Number.POSITIVE_INFINITY)) }
      : {}),
    ...(hasFallback && !(await channel.healthy().catch(() => false)) ? { maxAttempts: 1 } : {}),
  };
}
