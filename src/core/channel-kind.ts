/** A channel a message can travel through. */
export type ChannelKind =
  | "telegram"
  | "sms"
  | "whatsapp"
  | "email"
  | "outbox"
  | "telegram_gateway"
  | "voice";
