import type { ChannelKind } from "../core/channel-kind.js";
import type { TargetRecord } from "../otp/challenge-store.js";
import { deliveryErrors } from "./errors.js";
import { checkRecipient, type RecipientPolicy } from "./recipients.js";

/** What a delivery target must satisfy on this service. */
export interface TargetRules {
  /** Whether a channel can be used at all (a provider or the outbox serves it). */
  usable(channel: ChannelKind): boolean;
  recipients: RecipientPolicy;
  /** Given to a Telegram target that asks for 0; 0 keeps the message. */
  telegramSelfDestructDefaultSeconds: number;
}

/** The self-destruct range the contract fixes, in seconds. */
export const selfDestructLimits = { min: 5, max: 86_400 } as const;

/** The fallback-on-silence range, in seconds. */
export const fallbackAfterLimits = { min: 5, max: 3600 } as const;

const localeShape = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$/;

/**
 * Checks one delivery target and returns it in canonical form: the recipient
 * normalised (E.164 for phone numbers), the Telegram self-destruct default
 * filled in. Errors name the request field, prefixed by `field` (for
 * example "delivery_targets[1].").
 */
export function validateTarget(
  target: {
    channel: ChannelKind | "invalid";
    recipient: string;
    selfDestructSeconds: number;
    fallbackAfterSeconds?: number;
  },
  rules: TargetRules,
  field = "",
): TargetRecord {
  const { channel } = target;
  if (channel === "invalid") throw deliveryErrors.channelInvalid(`${field}channel`);
  const checked = checkRecipient(channel, target.recipient, rules.recipients);
  if (!checked.ok) {
    if (checked.reason === "RECIPIENT_INVALID") {
      throw deliveryErrors.recipientInvalid(`${field}recipient`, channel);
    }
    throw deliveryErrors.recipientRefused(checked.reason, `${field}recipient`, channel);
  }
  const sd = target.selfDestructSeconds;
  const inRange = sd >= selfDestructLimits.min && sd <= selfDestructLimits.max;
  if (!(sd === 0 || (channel === "telegram" && Number.isInteger(sd) && inRange))) {
    throw deliveryErrors.selfDestructInvalid(`${field}self_destruct_seconds`);
  }
  const fa = target.fallbackAfterSeconds ?? 0;
  const faInRange = fa >= fallbackAfterLimits.min && fa <= fallbackAfterLimits.max;
  if (!(fa === 0 || (Number.isInteger(fa) && faInRange))) {
    throw deliveryErrors.fallbackAfterInvalid(`${field}fallback_after_seconds`);
  }
  if (!rules.usable(channel)) {
    throw deliveryErrors.channelNotConfigured(`${field}channel`, channel);
  }
  return {
    channel,
    recipient: checked.recipient,
    selfDestructSeconds:
      channel === "telegram" && sd === 0 ? rules.telegramSelfDestructDefaultSeconds : sd,
    ...(fa === 0 ? {} : { fallbackAfterSeconds: fa }),
  };
}

/** Checks a locale: empty (the default) or a language tag; returns it in lower case with hyphens. */
export function validateLocale(locale: string, field = "locale"): string {
  if (locale === "") return "";
  if (locale.length > 35 || !localeShape.test(locale)) throw deliveryErrors.localeInvalid(field);
  return locale.replace(/_/g, "-").toLowerCase();
}
