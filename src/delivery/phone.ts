import {
  type CountryCode,
  type NumberType,
  parsePhoneNumberFromString,
} from "libphonenumber-js/max";

/** Which destinations a phone channel may send to. */
export interface PhonePolicy {
  /**
   * ISO 3166-1 alpha-2 codes of the countries allowed, or "all". Keeping this
   * to the countries you serve is the main guard against SMS pumping (fraud
   * that sends codes to premium numbers abroad).
   */
  allowedCountries: ReadonlySet<string> | "all";
  /**
   * Number types refused even in allowed countries; by default premium-rate,
   * shared-cost, toll-free, voicemail, UAN and fixed lines, none of which
   * should receive a code by SMS.
   */
  blockedTypes?: ReadonlySet<NumberType>;
}

/** The outcome of {@link normalizePhone}. */
export type PhoneCheck =
  | { ok: true; e164: string; country: CountryCode | undefined }
  | { ok: false; reason: "RECIPIENT_INVALID" | "COUNTRY_NOT_ALLOWED" | "NUMBER_TYPE_NOT_ALLOWED" };

/** The number types refused by default. */
export const defaultBlockedNumberTypes: ReadonlySet<NumberType> = new Set<NumberType>([
  "PREMIUM_RATE",
  "SHARED_COST",
  "TOLL_FREE",
  "VOICEMAIL",
  "UAN",
  "FIXED_LINE",
]);

/**
 * Validates a phone number with libphonenumber's full metadata and returns it
 * in E.164. The input must be in international form ("+" and country code);
 * spaces, dashes and brackets are tolerated. Then the country must be allowed
 * and the number type not blocked.
 *
 * @example
 * normalizePhone("+1 (415) 555-2671", { allowedCountries: new Set(["US"]) });
 * // { ok: true, e164: "+14155552671", country: "US" }
 */
export function normalizePhone(input: string, policy: PhonePolicy): PhoneCheck {
  const trimmed = input.trim();
  if (!trimmed.startsWith("+") || trimmed.length > 32)
    return { ok: false, reason: "RECIPIENT_INVALID" };
  const parsed = parsePhoneNumberFromString(trimmed);
  if (parsed === undefined || !parsed.isValid()) return { ok: false, reason: "RECIPIENT_INVALID" };
  if (policy.allowedCountries !== "all") {
    if (parsed.country === undefined || !policy.allowedCountries.has(parsed.country)) {
      return { ok: false, reason: "COUNTRY_NOT_ALLOWED" };
    }
  }
  const type = parsed.getType();
  const blocked = policy.blockedTypes ?? defaultBlockedNumberTypes;
  if (type !== undefined && blocked.has(type))
    return { ok: false, reason: "NUMBER_TYPE_NOT_ALLOWED" };
  return { ok: true, e164: parsed.number, country: parsed.country };
}

/**
 * The country of a number already in E.164 (see {@link normalizePhone}), or
 * undefined when libphonenumber cannot tell (a non-geographic number).
 *
 * @example
 * countryOf("+14155552671"); // "US"
 */
export function countryOf(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164)?.country;
}

/**
 * Reads a phone number as Telegram shares it in a contact (digits, with or
 * without a leading "+") and returns it in E.164, or undefined when invalid.
 *
 * @example
 * phoneFromTelegramContact("79161234567"); // "+79161234567"
 */
export function phoneFromTelegramContact(raw: string): string | undefined {
  const digits = raw.replace(/[^\d+]/g, "");
  const parsed = parsePhoneNumberFromString(digits.startsWith("+") ? digits : `+${digits}`);
  return parsed?.isValid() === true ? parsed.number : undefined;
}
