import type { ChannelKind } from "../core/channel-kind.js";
import type { TenantScope } from "../core/tenant-scope.js";
import { recipientIdentity } from "../delivery/recipient-identity.js";
import type { CodeHasher } from "./code-hasher.js";

/**
 * The key under which a challenge is found by its recipient: a keyed hash
 * (under the code hasher's current secret) of the call's tenant (undefined:
 * "default"), the channel
 * and the recipient as one mailbox or number (delivery/recipient-identity.ts),
 * so the store never holds a recipient in the clear, two tenants never share
 * a key, and "Jane+x@Example.com" finds what "jane@example.com" was sent.
 *
 * @example
 * recipientIndexKey(hasher, scope, "sms", "+14155552671");
 */
export function recipientIndexKey(
  hasher: CodeHasher,
  scope: TenantScope | undefined,
  channel: ChannelKind,
  canonicalRecipient: string,
): string {
  const tenant = scope?.tenantId ?? "default";
  // The outbox stands in for SMS in development: one index for both.
  const kind = channel === "outbox" ? "sms" : channel;
  return hasher.digest(
    "recipient-index",
    `${tenant}\0${kind}\0${recipientIdentity(canonicalRecipient)}`,
  );
}
