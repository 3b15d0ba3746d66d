/** The limits of one free-text field. */
export interface TextBounds {
  /** Fewest characters (Unicode code points) after trimming; 0 allows empty text. */
  min: number;
  /** Most characters (Unicode code points) after trimming. */
  max: number;
  /** Characters refused besides the ones every field refuses, such as `/:/` in a TOTP label. */
  forbid?: RegExp;
}

// Refused in every stored name: control characters (NUL, CR, LF, tab, DEL and
// the C1 range), lone surrogates, line and paragraph separators, and the
// bidirectional overrides and isolates that make text display other than it is.
const unprintable = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * Checks a caller-supplied name (a tenant, an API key, a TOTP issuer or
 * account) and returns it trimmed, or undefined when it is out of bounds or
 * holds a character no name should hold (see above). Length is counted in
 * code points, so an emoji is one character; text far over the limit is
 * refused before it is scanned. Each caller turns undefined into its own
 * `invalid_argument` reason.
 *
 * @example
 * boundedText("  Acme  ", { min: 1, max: 100 }); // "Acme"
 * boundedText("Acme\r\nX: 1", { min: 1, max: 100 }); // undefined
 */
export function boundedText(raw: string, bounds: TextBounds): string | undefined {
  // A code point is one or two UTF-16 units: beyond twice the limit it cannot fit.
  if (raw.length > bounds.max * 2 + 64) return undefined;
  const text = raw.trim();
  if (unprintable.test(text) || bounds.forbid?.test(text)) return undefined;
  let length = 0;
  for (const _ of text) length++;
  return length < bounds.min || length > bounds.max ? undefined : text;
}
