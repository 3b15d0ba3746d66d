/**
 * Masks a recipient so it can appear in responses, logs and traces: a phone
 * number keeps its first two and last four characters, an email address its
 * first letter and domain, anything else its first and last character.
 *
 * @example
 * maskRecipient("+14155554567"); // "+1******4567"
 * maskRecipient("alice@example.com"); // "a***@example.com"
 */
export function maskRecipient(recipient: string): string {
  const at = recipient.lastIndexOf("@");
  if (at > 0) return `${recipient.charAt(0)}***${recipient.slice(at)}`;
  if (/^\+\d{7,15}$/.test(recipient)) {
    return `${recipient.slice(0, 2)}${"*".repeat(recipient.length - 6)}${recipient.slice(-4)}`;
  }
  if (recipient.length <= 2) return "*".repeat(recipient.length);
  return `${recipient.charAt(0)}${"*".repeat(Math.min(recipient.length - 2, 8))}${recipient.slice(-1)}`;
}
