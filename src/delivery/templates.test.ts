import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadTemplateOverrides } from "../config/index.js";
import type { ChannelKind } from "../core/channel-kind.js";
import { builtInTemplates, createTemplates, formatLifetime, renderCodeText } from "./templates.js";

const code = { code: "493027", ttlSeconds: 300 };
const channels: ChannelKind[] = ["telegram", "sms", "whatsapp", "email", "outbox"];

describe("renderCodeText", () => {
  it("renders the English SMS text", () => {
    expect(renderCodeText(code)).toBe(
      "Your verification code is 493027. It expires in 5 minutes. Never share it with anyone.",
    );
  });

  it("says seconds, minutes or hours, singular or plural", () => {
    expect(renderCodeText({ code: "1", ttlSeconds: 60 })).toContain("expires in 1 minute.");
    expect(renderCodeText({ code: "1", ttlSeconds: 90 })).toContain("expires in 90 seconds.");
    expect(renderCodeText({ code: "1", ttlSeconds: 3600 })).toContain("expires in 1 hour.");
  });
});

describe("createTemplates", () => {
  const templates = createTemplates();

  it("renders every channel in English and Spanish with the code, lifetime and a warning", () => {
    for (const channel of channels) {
      const en = templates.render(channel, { ...code, locale: "en" });
      expect(en.text).toContain("493027");
      expect(en.text).toContain("5 minutes");
      expect(en.text).toMatch(/never share/i);
      const es = templates.render(channel, { ...code, locale: "es" });
      expect(es.locale).toBe("es");
      expect(es.text).toContain("493027");
      expect(es.text).toContain("5 minutos");
      expect(es.text).toMatch(/no lo compartas/i);
    }
  });

  it("renders German", () => {
    expect(templates.render("sms", { ...code, locale: "de" }).text).toBe(
      "Dein Bestätigungscode lautet 493027. Er ist 5 Minuten gültig. Gib ihn niemals weiter.",
    );
  });

  it("gives email a subject and an HTML body", () => {
    const email = templates.render("email", { ...code, locale: "es" });
    expect(email.subject).toBe("493027 es tu código de verificación");
    expect(email.html).toContain('<html lang="es">');
    expect(email.html).toContain("493027");
    expect(email.html).toContain("5 minutos");
  });

  it("falls back from a regional locale to its language, and from an unknown one to the default", () => {
    expect(templates.render("sms", { ...code, locale: "es-MX" }).locale).toBe("es");
    expect(templates.render("sms", { ...code, locale: "pt_BR" }).locale).toBe("en");
    expect(templates.render("sms", code).locale).toBe("en");
  });

  it("uses the configured default locale", () => {
    const spanish = createTemplates({ defaultLocale: "es" });
    expect(spanish.render("sms", code).text).toContain("Tu código");
    expect(spanish.locales[0]).toBe("es");
  });

  it("escapes values placed in HTML", () => {
    const email = templates.render("email", { code: "<b>&", ttlSeconds: 60 });
    expect(email.html).toContain("&lt;b&gt;&amp;");
    expect(email.html).not.toContain("<b>&");
  });

  it("keeps the do-not-share warning in every built-in template", () => {
    for (const [locale, byChannel] of Object.entries(builtInTemplates)) {
      for (const template of Object.values(byChannel)) {
        expect(template?.text, locale).toMatch(/never share|no lo compartas|niemals weiter/i);
      }
    }
  });
});

describe("template overrides", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const writeFile = (content: unknown) => {
    dir = mkdtempSync(join(tmpdir(), "otp-templates-"));
    const path = join(dir, "templates.json");
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
    return path;
  };

  it("replaces a field from a JSON file and keeps the others", () => {
    const path = writeFile({
      en: { sms: { text: "{{code}} is your Acme code. Valid {{lifetime}}. Don't share it." } },
      fr: {
        sms: { text: "Votre code est {{code}}. Il expire dans {{lifetime}}. Ne le partagez pas." },
      },
    });
    const templates = createTemplates({ overrides: loadTemplateOverrides(path) });
    expect(templates.render("sms", code).text).toBe(
      "493027 is your Acme code. Valid 5 minutes. Don't share it.",
    );
    expect(templates.render("email", code).subject).toBe("493027 is your verification code");
    expect(templates.render("telegram", { ...code, locale: "fr" }).text).toBe(
      "Votre code est 493027. Il expire dans 5 minutes. Ne le partagez pas.",
    );
  });

  it("rejects a template without the code", () => {
    const path = writeFile({ en: { sms: { text: "Your code expires in {{lifetime}}." } } });
    expect(() => createTemplates({ overrides: loadTemplateOverrides(path) })).toThrow(
      /en\.sms\.text: must contain \{\{code\}\}/,
    );
  });

  it("rejects an unknown placeholder, channel or field", () => {
    expect(() =>
      createTemplates({
        overrides: loadTemplateOverrides(writeFile({ en: { sms: { text: "{{code}} {{name}}" } } })),
      }),
    ).toThrow(/unknown placeholder \{\{name\}\}/);
    expect(() => loadTemplateOverrides(writeFile({ en: { fax: { text: "{{code}}" } } }))).toThrow(
      /en\.fax: unknown channel/,
    );
    expect(() => loadTemplateOverrides(writeFile({ en: { sms: { body: "{{code}}" } } }))).toThrow(
      /en\.sms\.body: unknown field/,
    );
  });

  it("names the file when it is not JSON", () => {
    const path = writeFile("{ nope");
    expect(() => loadTemplateOverrides(path)).toThrow(path);
  });
});

describe("formatLifetime", () => {
  it("uses whole hours, minutes or seconds in the locale", () => {
    expect(formatLifetime(7200, "de")).toBe("2 Stunden");
    expect(formatLifetime(60, "es")).toBe("1 minuto");
    expect(formatLifetime(45, "en")).toBe("45 seconds");
  });
});
