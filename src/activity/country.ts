import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/** The country label of a recipient that is an email address. */
export const emailCountry = "email";
/** The country label of a recipient that is neither a phone number nor an email address. */
export const otherCountry = "other";

// A number's country is decided by its first digits (calling code, then the
// area or operator code for shared calling codes such as +1 and +7): the
// answer is remembered per prefix, so only the first number of a prefix is
// parsed. The prefix is not a recipient: it holds no subscriber digits.
const prefixLength = 8;
const maxPrefixes = 10_000;
const byPrefix = new Map<string, string>();

/**
 * The country a code was sent to: the ISO 3166-1 alpha-2 code of a phone
 * number (by libphonenumber's metadata), "email" for an email address, and
 * "other" for anything else (a Telegram chat id, no recipient at all).
 *
 * @example
 * countryOf("+14155552671"); // "US"
 * countryOf("a@example.com"); // "email"
 */
export function countryOf(recipient: string | undefined): string {
  if (recipient === undefined || recipient === "") return otherCountry;
  if (recipient.charCodeAt(0) !== 43 /* "+" */) {
    return recipient.indexOf("@") > 0 ? emailCountry : otherCountry;
  }
  const prefix = recipient.slice(0, prefixLength);
  let country = byPrefix.get(prefix);
  if (country === undefined) {
    country = parsePhoneNumberFromString(recipient)?.country ?? otherCountry;
    if (byPrefix.size >= maxPrefixes) byPrefix.clear();
    byPrefix.set(prefix, country);
  }
  return country;
}
