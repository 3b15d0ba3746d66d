import type { Channel } from "./channel.js";
import { failureReasonOf } from "./delivery-error.js";
import type { DeliveryStore } from "./delivery-store.js";
import { deliveryStatusOf } from "./delivery-view.js";

/** What {@link withdrawDelivery} did. */
export type WithdrawOutcome =
  /** The provider took the message back (or was asked to); a "deleted" event is recorded. */
  | { kind: "withdrawn" }
  /** Nothing to take back: unknown, never accepted, already gone, or a channel that cannot withdraw. */
  | { kind: "not_withdrawable" }
  /** The provider refused or failed; nothing recorded. */
  | { kind: "failed"; reason: string };

/**
 * Withdraws the message of one delivery over its channel's `withdraw`
 * (the Telegram Gateway's revokeVerificationMessage) and records it as a
 * "deleted" event, as a Telegram self-destruct deletion is recorded. Called
 * when the challenge the message carries a code for is verified, canceled
 * or expires, so its code does not outlive its use.
 */
export async function withdrawDelivery(
  deps: {
    store: Pick<DeliveryStore, "getDelivery" | "appendDeliveryEvent">;
    channels: () => readonly Channel[];
    now: () => number;
  },
  deliveryId: string,
  signal?: AbortSignal,
): Promise<WithdrawOutcome> {
  const record = await deps.store.getDelivery(deliveryId, deps.now());
  if (record === undefined || record.providerMessageId === "") return { kind: "not_withdrawable" };
  const status = deliveryStatusOf(record.events);
  if (status === "deleted" || status === "failed") return { kind: "not_withdrawable" };
  const channel = deps.channels().find((c) => c.kind === record.channel);
  if (channel?.withdraw === undefined) return { kind: "not_withdrawable" };
  try {
    // False: the provider has nothing to take back (already gone, or too old).
    if (!(await channel.withdraw(record.providerMessageId, { signal }))) {
      return { kind: "not_withdrawable" };
    }
  } catch (err) {
    return { kind: "failed", reason: failureReasonOf(err) };
  }
  await deps.store.appendDeliveryEvent(deliveryId, {
    status: "deleted",
    atMs: deps.now(),
    reason: "",
    attempt: 0,
  });
  return { kind: "withdrawn" };
}
