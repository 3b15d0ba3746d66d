import { isSealed, type RecipientVault } from "../../core/recipient-vault.js";
import type { OutboxEntry } from "../../delivery/delivery-store.js";
import type { ChallengeRecord } from "../../otp/challenge-store.js";

/** An outbox entry as the list holds it: what filters need in the open, the rest sealed. */
export interface StoredOutboxEntry {
  id: string;
  tenantId?: string;
  channel: OutboxEntry["channel"];
  challengeId: string;
  createdAtMs: number;
  untilMs?: number;
  /** A keyed hash of the recipient, for ListOutbox's filter. */
  recipientHash?: string;
  /** The recipient and the text, sealed (bound to the entry's id). */
  sealed?: string;
  /** The recipient and text of an entry written before sealing. */
  recipient?: string;
  text?: string;
}

/** How the Redis store turns recipients into stored values and back. */
export interface RecipientCodec {
  sealTargets(challengeId: string, targets: ChallengeRecord["targets"]): string;
  openTargets(challengeId: string, stored: string): ChallengeRecord["targets"];
  sealProviderId(deliveryId: string, providerMessageId: string): string;
  openProviderId(deliveryId: string, stored: string): string;
  sealOutbox(entry: OutboxEntry, untilMs: number): StoredOutboxEntry;
  openOutbox(stored: StoredOutboxEntry): OutboxEntry | undefined;
}

// Values written before sealing (plain JSON, a plain provider id) are still read.
/** Seals recipients in stored values and opens them, with the vault's current and previous keys. */
export function createRecipientCodec(vault: RecipientVault): RecipientCodec {
  return {
    sealTargets: (challengeId, targets) =>
      targets.length === 0
        ? "[]"
        : vault.seal(JSON.stringify(targets), `challenge-targets:${challengeId}`),
    openTargets: (challengeId, stored) =>
      JSON.parse(
        isSealed(stored) ? vault.open(stored, `challenge-targets:${challengeId}`) : stored,
      ),
    // A Telegram provider id is "<chat id>:<message id>".
    sealProviderId: (deliveryId, providerMessageId) =>
      providerMessageId === ""
        ? ""
        : vault.seal(providerMessageId, `delivery-provider:${deliveryId}`),
    openProviderId: (deliveryId, stored) =>
      isSealed(stored) ? vault.open(stored, `delivery-provider:${deliveryId}`) : stored,
    sealOutbox: (entry, untilMs) => ({
      id: entry.id,
      ...(entry.tenantId === undefined ? {} : { tenantId: entry.tenantId }),
      channel: entry.channel,
      challengeId: entry.challengeId,
      createdAtMs: entry.createdAtMs,
      untilMs,
      recipientHash: vault.index("outbox-recipient", entry.recipient),
      sealed: vault.seal(
        JSON.stringify({ recipient: entry.recipient, text: entry.text }),
        `outbox:${entry.id}`,
      ),
    }),
    openOutbox(stored) {
      let content: { recipient: string; text: string };
      if (stored.sealed === undefined) {
        content = { recipient: stored.recipient ?? "", text: stored.text ?? "" };
      } else {
        try {
          content = JSON.parse(vault.open(stored.sealed, `outbox:${stored.id}`));
        } catch {
          return undefined;
        }
      }
      return {
        id: stored.id,
        ...(stored.tenantId === undefined ? {} : { tenantId: stored.tenantId }),
        channel: stored.channel,
        recipient: content.recipient,
        text: content.text,
        challengeId: stored.challengeId,
        createdAtMs: stored.createdAtMs,
      };
    },
  };
}
