import { domainToASCII } from "node:url";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { gmailDomains, type PlusTagDomains } from "../config/index.js";

// RATE_LIMIT_PLUS_TAG_DOMAINS says where tags are dropped, so config/ owns the type.
export type { PlusTagDomains };

/** Options for {@link recipientIdentity}. */
export interface RecipientIdentityOptions {
  /** The domains whose `local+tag@domain` is the mailbox `local@domain`; every domain by default. */
  plusTagDomains?: PlusTagDomains;
}

// Gmail ignores dots in the local part, and googlemail.com is the same mailbox
// (config/ reads RATE_LIMIT_PLUS_TAG_DOMAINS with the same two domains).

/**
 * The identity of a recipient for limits and indexes: two spellings of one
 * mailbox or one phone number give the same identity, so they share one
 * budget. Only limits and indexes use it; a message still goes to the
 * recipient as given.
 *
 * Email addresses: lower-cased, the domain in ASCII (IDNA) without a trailing
 * dot, `+tags` dropped for `plusTagDomains`, and for Gmail the dots of the
 * local part dropped and googlemail.com read as gmail.com. Phone numbers
 * (anything starting with "+" that libphonenumber reads as valid) become
 * E.164. Anything else (Telegram chat ids and usernames) is trimmed and
 * lower-cased.
 *
 * @example
 * recipientIdentity("Victim+2@EXAMPLE.com."); // "victim@example.com"
 * recipientIdentity("+1 (415) 555-2671"); // "+14155552671"
 */
export function recipientIdentity(
  recipient: string,
  options: RecipientIdentityOptions = {},
): string {
  const trimmed = recipient.trim();
  const at = trimmed.lastIndexOf("@");
  if (at > 0 && at < trimmed.length - 1) return emailIdentity(trimmed, at, options);
  if (trimmed.startsWith("+")) {
    const parsed = parsePhoneNumberFromString(trimmed);
    if (parsed?.isValid() === true) return parsed.number;
  }
  return trimmed.toLowerCase();
}

function emailIdentity(address: string, at: number, options: RecipientIdentityOptions): string {
  let domain = address
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.+$/, "");
  // An internationalised domain and its punycode form are one domain.
  domain = domainToASCII(domain) || domain;
  if (domain === "googlemail.com") domain = "gmail.com";
  let local = address.slice(0, at).toLowerCase();
  const plusTags = options.plusTagDomains ?? "all";
  const strip = plusTags === "all" || plusTags.has(domain) || gmailDomains.has(domain);
  const plus = local.indexOf("+");
  // "+tag" alone (an empty base) is left as it is: there is no mailbox to fold it into.
  if (strip && plus > 0) local = local.slice(0, plus);
  if (gmailDomains.has(domain)) local = local.replaceAll(".", "");
  return `${local}@${domain}`;
}
