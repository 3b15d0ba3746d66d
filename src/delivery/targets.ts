import type { ChannelKind } from "../core/channel-kind.js";
import type { TargetRecord } from "../otp/challenge-store.js";
import { deliveryErrors } from "./errors.js";
import { countryOf } from "./phone.js";
import { checkRecipient, type RecipientPolicy } from "./recipients.js";

/** What a delivery target must satisfy on this service. */
export interface TargetRules {
  /** Whether a channel can be used at all (a provider or the outbox serves it). */
  usable(channel: ChannelKind): boolean;
  recipients: RecipientPolicy;
  /** Given to a Telegram target that asks for 0; 0 keeps the message. */
  telegramSelfDestructDefaultSeconds: number;
}

/**
 * What a tenant's settings add to the service's rules: the channels it may
 * use and, per phone channel, the countries it may reach, checked on top of
 * the service-wide lists (a tenant narrows them, never widens them).
 */
export interface TenantTargetPolicy {
  allowedChannels: ReadonlySet<ChannelKind> | undefined;
  countries: ReadonlyMap<ChannelKind, ReadonlySet<string>>;
  /** A number outside `countries` is let through and reported instead of refused. */
  geoReportOnly: boolean;
}

/** Told of a number a report-only geo permission would have refused: channel and country ("" when unknown). */
export type GeoReport = (channel: ChannelKind, country: string) => void;

/** The self-destruct range the contract fixes, in seconds. */
export const selfDestructLimits = { min: 5, max: 86_400 } as const;

/** The fallback-on-silence range, in seconds. */
export const fallbackAfterLimits = { min: 1, max: 3600 } as const;

const localeShape = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$/;

/**
 * Checks one delivery target and returns it in canonical form: the recipient
 * normalised (E.164 for phone numbers), the Telegram self-destruct default
 * filled in. Errors name the request field, prefixed by `field` (for
 * example "delivery_targets[1]."). A tenant's policy, when given, may
 * refuse the channel (`CHANNEL_NOT_ALLOWED`) or the number's country
 * (`COUNTRY_NOT_ALLOWED`), or only report the country (`onGeoReport`).
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
  tenant?: TenantTargetPolicy,
  onGeoReport?: GeoReport,
): TargetRecord {
  const { channel } = target;
  if (channel === "invalid") throw deliveryErrors.channelInvalid(`${field}channel`);
  if (tenant?.allowedChannels !== undefined && !tenant.allowedChannels.has(channel)) {
    throw deliveryErrors.channelNotAllowed(`${field}channel`, channel);
  }
  const checked = checkRecipient(channel, target.recipient, rules.recipients);
  if (!checked.ok) {
    if (checked.reason === "RECIPIENT_INVALID") {
      throw deliveryErrors.recipientInvalid(`${field}recipient`, channel);
    }
    throw deliveryErrors.recipientRefused(checked.reason, `${field}recipient`, channel);
  }
  // Voice and the Telegram Gateway follow the SMS countries, as the service's lists do.
  const countries =
    tenant?.countries.get(channel) ??
    (channel === "voice" || channel === "telegram_gateway"
      ? tenant?.countries.get("sms")
      : undefined);
  if (countries !== undefined) {
    const country = countryOf(checked.recipient) ?? "";
    if (!countries.has(country)) {
      if (!tenant?.geoReportOnly) {
        throw deliveryErrors.recipientRefused("COUNTRY_NOT_ALLOWED", `${field}recipient`, channel);
      }
      onGeoReport?.(channel, country);
    }
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
