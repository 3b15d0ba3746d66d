/** What a voice call says around the code, in one language. */
interface VoicePhrases {
  /** The `language` attribute of `<Say>` when the locale names no region Twilio speaks. */
  language: string;
  intro: string;
  again: string;
  goodbye: string;
}

// The built-in locales of the message templates (en, es, de), spoken.
const phrases: Record<string, VoicePhrases> = {
  en: {
    language: "en-US",
    intro: "Your verification code is:",
    again: "Once again, your code is:",
    goodbye: "Goodbye.",
  },
  es: {
    language: "es-ES",
    intro: "Tu código de verificación es:",
    again: "Repito, tu código es:",
    goodbye: "Adiós.",
  },
  de: {
    language: "de-DE",
    intro: "Dein Bestätigungscode lautet:",
    again: "Noch einmal, dein Code lautet:",
    goodbye: "Auf Wiederhören.",
  },
};

// Regional variants Twilio's `<Say>` speaks for the languages above.
const regional = new Set(["en-US", "en-GB", "en-AU", "en-CA", "en-IN", "es-ES", "es-MX", "es-US"]);

/** The longest TwiML Twilio takes inline in `calls.create`. */
export const maxInlineTwimlLength = 4000;

/**
 * Escapes text for an XML element or attribute value.
 *
 * @example
 * escapeXml(`<a href="x">&</a>`); // "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
 */
export function escapeXml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/**
 * The language a call speaks for a BCP 47 locale, and the phrases it says:
 * "es-MX" speaks `es-MX`, "es" or "es-AR" `es-ES`; a language without
 * phrases falls back to `defaultLocale`, then to English.
 */
export function voiceLanguageOf(
  locale: string | undefined,
  defaultLocale = "en",
): { language: string; phrases: VoicePhrases } {
  for (const tag of [locale, defaultLocale, "en"]) {
    if (tag === undefined || tag === "") continue;
    const [base = "", region] = tag.split("-");
    const own = phrases[base.toLowerCase()];
    if (own === undefined) continue;
    const full = region === undefined ? "" : `${base.toLowerCase()}-${region.toUpperCase()}`;
    return { language: regional.has(full) ? full : own.language, phrases: own };
  }
  return { language: "en-US", phrases: phrases.en as VoicePhrases };
}

/**
 * The code spelled out for speech, one character at a time with a pause
 * between each: "493027" becomes "4, 9, 3, 0, 2, 7.".
 */
export function spellForSpeech(code: string): string {
  return `${[...code].join(", ")}.`;
}

/**
 * The TwiML of a code call: an introduction, then the code read slowly,
 * character by character, twice, in the locale's language, then goodbye.
 * Every piece of text is XML-escaped.
 *
 * @example
 * codeCallTwiml({ code: "493027", locale: "es" });
 * // <Response><Say language="es-ES">Tu código de verificación es:</Say><Pause length="1"/>
 * //   <Say language="es-ES">4, 9, 3, 0, 2, 7.</Say>...
 */
export function codeCallTwiml(input: {
  code: string;
  locale?: string;
  defaultLocale?: string;
}): string {
  const { language, phrases: p } = voiceLanguageOf(input.locale, input.defaultLocale);
  const say = (text: string) => `<Say language="${escapeXml(language)}">${escapeXml(text)}</Say>`;
  const pause = '<Pause length="1"/>';
  const digits = spellForSpeech(input.code);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    "<Response>",
    pause,
    say(p.intro),
    pause,
    say(digits),
    pause,
    say(p.again),
    pause,
    say(digits),
    pause,
    say(p.goodbye),
    "</Response>",
  ].join("");
}

/** The TwiML of a free-text call: the text read once, XML-escaped. */
export function textCallTwiml(input: { text: string; locale?: string; defaultLocale?: string }) {
  const { language } = voiceLanguageOf(input.locale, input.defaultLocale);
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="1"/><Say language="${escapeXml(language)}">${escapeXml(input.text)}</Say></Response>`;
}
