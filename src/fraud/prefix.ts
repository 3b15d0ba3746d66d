import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { countryOf } from "../activity/country.js";

/** Where a phone send goes, as the fraud guard counts it: never the number itself. */
export interface DestinationPrefix {
  /** The country calling code and the first digits of the national number, e.g. "+44 791". */
  prefix: string;
  /** The ISO 3166-1 alpha-2 country, e.g. "GB", or "other" when the number has none (for metrics). */
  country: string;
}

// Calling codes are prefix-free and at most three digits, so "+" and the
// first three digits decide one; the answer is remembered, so only the first
// number of each such start is parsed.
const callingCodes = new Map<string, string>();
const maxRemembered = 2_000;

/**
 * The destination prefix of a phone number in E.164 ("+" and digits): its
 * country calling code, a space, and the next `digits` digits of the
 * national number (fewer when the number is so short that four of its
 * digits would not stay out of the prefix). Undefined for anything that is not a phone number (an
 * email address, a Telegram chat id) or not a valid one.
 *
 * @example
 * destinationPrefix("+447911123456", 3); // { prefix: "+44 791", country: "GB" }
 * destinationPrefix("+14155552671", 3); // { prefix: "+1 415", country: "US" }
 */
export function destinationPrefix(
  recipient: string,
  digits: number,
): DestinationPrefix | undefined {
  if (recipient.charCodeAt(0) !== 43 /* "+" */ || !/^\+\d{6,15}$/.test(recipient)) {
    return undefined;
  }
  const start = recipient.slice(0, 4);
  let code = callingCodes.get(start);
  if (code === undefined) {
    const parsed = parsePhoneNumberFromString(recipient);
    if (parsed === undefined) return undefined;
    code = parsed.countryCallingCode as string;
    if (callingCodes.size >= maxRemembered) callingCodes.clear();
    callingCodes.set(start, code);
  }
  // At least four digits of every number stay out of its prefix, however short the number.
  const kept = Math.max(0, Math.min(digits, recipient.length - 1 - code.length - 4));
  const national = recipient.slice(1 + code.length, 1 + code.length + kept);
  return {
    prefix: kept === 0 ? `+${code}` : `+${code} ${national}`,
    country: countryOf(recipient),
  };
}
