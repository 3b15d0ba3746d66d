import type { ChannelKind } from "../core/channel-kind.js";
import { normalizePhone, type PhonePolicy } from "./phone.js";

const email = /^[^\s@"<>,;]+@[^\s@"<>,;]+\.[^\s@"<>,;]{2,}$/;
const telegramChat = /^-?\d{1,20}$/;
const telegramUsername = /^@[A-Za-z][A-Za-z0-9_]{4,31}$/;

/** The prefix of a Telegram recipient that names an account linked through a deep link. */
export const telegramAccountPrefix = "account:";

/** What an account id linked to a Telegram chat may look like: opaque, 1 to 128 safe characters. */
export const accountIdPattern = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Which phone numbers the phone channels may send to. */
export interface RecipientPolicy {
  sms: PhonePolicy;
  whatsapp: PhonePolicy;
  /** Voice calls; the SMS policy when absent. */
  voice?: PhonePolicy;
  /** Telegram Gateway messages; the SMS policy when absent. */
  telegram_gateway?: PhonePolicy;
}

/** Any valid number, of any country and type: for Telegram phone recipients, which cost nothing to send to. */
const anyPhone: PhonePolicy = { allowedCountries: "all", blockedTypes: new Set() };

/** Every country, and the default blocked number types: for development and tests. */
export const openRecipientPolicy: RecipientPolicy = {
  sms: { allowedCountries: "all" },
  whatsapp: { allowedCountries: "all" },
};

/** The outcome of {@link checkRecipient}. */
export type RecipientCheck =
  | { ok: true; recipient: string }
  | { ok: false; reason: "RECIPIENT_INVALID" | "COUNTRY_NOT_ALLOWED" | "NUMBER_TYPE_NOT_ALLOWED" };

/**
 * Checks a recipient for a channel and returns it in its canonical form.
 * Phone numbers (SMS, WhatsApp and Telegram phone recipients) are validated
 * with libphonenumber and normalised to E.164 ("+1 (415) 555-2671" becomes
 * "+14155552671"); SMS and WhatsApp numbers must also be in an allowed
 * country and not of a blocked type (premium rate, fixed line, ...). A
 * Telegram recipient may also be a chat id, a public @username or
 * `account:<id>` for an account linked through a deep link.
 *
 * @example
 * checkRecipient("sms", "+1 415 555 2671", policy); // { ok: true, recipient: "+14155552671" }
 */
export function checkRecipient(
  channel: ChannelKind,
  recipient: string,
  policy: RecipientPolicy,
): RecipientCheck {
  const invalid = { ok: false, reason: "RECIPIENT_INVALID" } as const;
  switch (channel) {
    case "sms":
    case "whatsapp": {
      const checked = normalizePhone(recipient, policy[channel]);
      return checked.ok ? { ok: true, recipient: checked.e164 } : checked;
    }
    // A call and a Gateway message cost money per send like an SMS, so the
    // SMS countries and number types apply unless they have their own.
    case "voice":
    case "telegram_gateway": {
      const checked = normalizePhone(recipient, policy[channel] ?? policy.sms);
      return checked.ok ? { ok: true, recipient: checked.e164 } : checked;
    }
    case "email":
      return recipient.length <= 254 && email.test(recipient) ? { ok: true, recipient } : invalid;
    case "telegram": {
      if (telegramChat.test(recipient) || telegramUsername.test(recipient)) {
        return { ok: true, recipient };
      }
      if (recipient.startsWith(telegramAccountPrefix)) {
        return accountIdPattern.test(recipient.slice(telegramAccountPrefix.length))
          ? { ok: true, recipient }
          : invalid;
      }
      const checked = normalizePhone(recipient, anyPhone);
      return checked.ok ? { ok: true, recipient: checked.e164 } : invalid;
    }
    case "outbox":
      return recipient.length > 0 && recipient.length <= 256 && !/[\r\n]/.test(recipient)
        ? { ok: true, recipient }
        : invalid;
  }
}
