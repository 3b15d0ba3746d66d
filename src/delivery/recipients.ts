import type { ChannelKind } from "../store/store.js";

const e164 = /^\+[1-9]\d{6,14}$/;
const email = /^[^\s@"<>,;]+@[^\s@"<>,;]+\.[^\s@"<>,;]{2,}$/;
const telegramChat = /^-?\d{1,20}$/;
const telegramUsername = /^@[A-Za-z][A-Za-z0-9_]{4,31}$/;

/** Tells whether `recipient` is a well-formed address on `channel`. */
export function isValidRecipient(channel: ChannelKind, recipient: string): boolean {
  switch (channel) {
    case "sms":
    case "whatsapp":
      return e164.test(recipient);
    case "email":
      return recipient.length <= 254 && email.test(recipient);
    case "telegram":
      return (
        telegramChat.test(recipient) || telegramUsername.test(recipient) || e164.test(recipient)
      );
    case "outbox":
      return recipient.length > 0 && recipient.length <= 256 && !/[\r\n]/.test(recipient);
  }
}
