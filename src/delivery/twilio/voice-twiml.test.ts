import { describe, expect, it } from "vitest";
import {
  codeCallTwiml,
  escapeXml,
  spellForSpeech,
  textCallTwiml,
  voiceLanguageOf,
} from "./voice-twiml.js";

const says = (twiml: string) =>
  [...twiml.matchAll(/<Say language="([^"]*)">([^<]*)<\/Say>/g)].map((m) => [m[1], m[2]]);

describe("codeCallTwiml", () => {
  it("reads the code digit by digit, twice", () => {
    const twiml = codeCallTwiml({ code: "493027" });
    const spoken = says(twiml).map(([, text]) => text);
    expect(spoken.filter((t) => t === "4, 9, 3, 0, 2, 7.")).toHaveLength(2);
    expect(twiml.startsWith('<?xml version="1.0" encoding="UTF-8"?><Response>')).toBe(true);
    expect(twiml.endsWith("</Response>")).toBe(true);
    // Pauses between the parts, so the code is not rushed.
    expect(twiml.match(/<Pause length="1"\/>/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it("speaks the locale's language, with its region where Twilio has one", () => {
    expect(says(codeCallTwiml({ code: "1234", locale: "es" }))[0]).toEqual([
      "es-ES",
      "Tu código de verificación es:",
    ]);
    expect(says(codeCallTwiml({ code: "1234", locale: "es-MX" }))[0]?.[0]).toBe("es-MX");
    expect(says(codeCallTwiml({ code: "1234", locale: "de-AT" }))[0]).toEqual([
      "de-DE",
      "Dein Bestätigungscode lautet:",
    ]);
    expect(says(codeCallTwiml({ code: "1234", locale: "en-GB" }))[0]?.[0]).toBe("en-GB");
  });

  it("falls back to the default locale, then to English", () => {
    expect(voiceLanguageOf("fr", "de").language).toBe("de-DE");
    expect(voiceLanguageOf(undefined, "es").language).toBe("es-ES");
    expect(voiceLanguageOf("fr", "fr").language).toBe("en-US");
  });

  it("escapes every character XML gives a meaning to", () => {
    const twiml = codeCallTwiml({ code: `a<&>"'b` });
    expect(twiml).toContain("a, &lt;, &amp;, &gt;, &quot;, &apos;, b.");
    expect(twiml).not.toContain("<&");
    const text = textCallTwiml({ text: "</Say><Dial>+1</Dial>" });
    expect(text).not.toContain("<Dial>");
    expect(text).toContain("&lt;/Say&gt;&lt;Dial&gt;");
  });
});

describe("spellForSpeech and escapeXml", () => {
  it("separates each character with a pause", () => {
    expect(spellForSpeech("0042")).toBe("0, 0, 4, 2.");
    expect(spellForSpeech("X7K")).toBe("X, 7, K.");
  });

  it("escapes attribute values too", () => {
    expect(escapeXml(`"'&<>`)).toBe("&quot;&apos;&amp;&lt;&gt;");
  });
});
