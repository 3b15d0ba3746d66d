import type { ChannelKind } from "../store/store.js";

/** A message ready to go out over one channel. */
export interface OutgoingMessage {
  recipient: string;
  text: string;
  /** The challenge whose code the message carries, if any. */
  challengeId: string;
  /** For Telegram, delete the message after this many seconds; 0 keeps it. */
  selfDestructSeconds: number;
}

/** One way of reaching a person, in front of its provider. */
export interface Channel {
  /** The channel this adapter sends through. */
  readonly kind: ChannelKind;
  /** A short description for ListChannels and the banner, for example "Twilio SMS". */
  readonly description: string;
  /** Sends the message; resolves with the delivery id once the provider accepted it. */
  send(message: OutgoingMessage, deliveryId: string): Promise<void>;
  /** Tells whether the channel can take messages now. */
  healthy(): Promise<boolean>;
}
