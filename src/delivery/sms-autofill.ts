/** What an SMS carrying a code adds so that phones fill the code in themselves. */
export interface SmsAutofill {
  /**
   * The 11-character hash of an Android app using the SMS Retriever API:
   * with it in the message, the app reads the code without asking.
   */
  appHash?: string;
  /**
   * The domain of an origin-bound one-time code (`@example.com #123456` as
   * the last line): browsers with the WebOTP API, and iOS and Android
   * keyboards, offer the code to that site only.
   */
  domain?: string;
}

/** An Android SMS Retriever app hash: 11 characters of base64. */
export const appHashPattern = /^[A-Za-z0-9+/]{11}$/;

/**
 * Adds the lines that let phones fill a code in: the app hash, then the
 * origin-bound line, which the WebOTP format wants last. The code in the
 * origin-bound line is the code as sent; nothing is added without settings.
 *
 * @example
 * withAutofill("Your code is 493027.", "493027", { domain: "example.com" });
 * // "Your code is 493027.\n\n@example.com #493027"
 */
export function withAutofill(text: string, code: string, autofill: SmsAutofill): string {
  const lines: string[] = [];
  if (autofill.appHash !== undefined) lines.push(autofill.appHash);
  if (autofill.domain !== undefined) lines.push(`@${autofill.domain} #${code}`);
  return lines.length === 0 ? text : `${text}\n\n${lines.join("\n")}`;
}
