import {
  type BuiltInTemplateLocale,
  checkCatalog,
  type MessageTemplate,
  normalizeLocale,
  placeholderPattern,
  type TemplateCatalog,
} from "../config/index.js";
import type { ChannelKind } from "../core/channel-kind.js";

export type { MessageTemplate, TemplateCatalog };

/** What a code message needs to say. */
export interface CodeMessage {
  code: string;
  ttlSeconds: number;
}

/** A code message in a given locale. */
export interface LocalizedCodeMessage extends CodeMessage {
  /** A BCP 47 tag such as "es" or "de-AT"; the default locale when absent. */
  locale?: string;
}

/** A rendered message: `subject` and `html` are set for email. */
export interface RenderedMessage {
  text: string;
  subject?: string;
  html?: string;
  /** The locale actually used, after falling back. */
  locale: string;
}

/** Renders code messages per channel and locale. */
export interface Templates {
  /** The locales with templates, default first. */
  readonly locales: readonly string[];
  readonly defaultLocale: string;
  /**
   * Renders the message for `channel`. The locale falls back from "de-AT" to
   * "de" to the default locale, and a channel missing in a locale falls back
   * to that locale's SMS text.
   */
  render(channel: ChannelKind, message: LocalizedCodeMessage): RenderedMessage;
}

const html = (lang: string, heading: string, intro: string, warning: string) =>
  `<!doctype html>
<html lang="${lang}">
<body style="margin:0;padding:24px;background:#f6f7f9;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2328">
<div style="max-width:480px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px">
<h1 style="font-size:20px;margin:0 0 16px">${heading}</h1>
<p style="margin:0 0 16px">${intro}</p>
<p style="font-size:32px;letter-spacing:6px;font-family:Menlo,Consolas,monospace;font-weight:bold;margin:0 0 16px">{{code}}</p>
<p style="margin:0;color:#57606a">${warning}</p>
</div>
</body>
</html>`;

/**
 * The built-in templates: English (the default), Spanish and German, for
 * every channel. The English SMS text is what {@link renderCodeText} returns.
 */
export const builtInTemplates = {
  en: {
    sms: {
      text: "Your verification code is {{code}}. It expires in {{lifetime}}. Never share it with anyone.",
    },
    whatsapp: {
      text: "Your verification code is *{{code}}*. It expires in {{lifetime}}. Never share it with anyone.",
    },
    telegram: {
      text: "Your verification code is {{code}}. It expires in {{lifetime}}. Never share it with anyone, not even with us.",
    },
    email: {
      subject: "{{code}} is your verification code",
      text: "Your verification code is {{code}}.\n\nIt expires in {{lifetime}}. Never share it with anyone: we will never ask you for it.\n\nIf you did not ask for this code, you can ignore this email.",
      html: html(
        "en",
        "Your verification code",
        "Enter this code to continue. It expires in {{lifetime}}.",
        "Never share this code with anyone: we will never ask you for it. If you did not ask for it, you can ignore this email.",
      ),
    },
  },
  es: {
    sms: {
      text: "Tu código de verificación es {{code}}. Caduca en {{lifetime}}. No lo compartas con nadie.",
    },
    whatsapp: {
      text: "Tu código de verificación es *{{code}}*. Caduca en {{lifetime}}. No lo compartas con nadie.",
    },
    telegram: {
      text: "Tu código de verificación es {{code}}. Caduca en {{lifetime}}. No lo compartas con nadie, ni siquiera con nosotros.",
    },
    email: {
      subject: "{{code}} es tu código de verificación",
      text: "Tu código de verificación es {{code}}.\n\nCaduca en {{lifetime}}. No lo compartas con nadie: nunca te lo pediremos.\n\nSi no has pedido este código, puedes ignorar este correo.",
      html: html(
        "es",
        "Tu código de verificación",
        "Introduce este código para continuar. Caduca en {{lifetime}}.",
        "No compartas este código con nadie: nunca te lo pediremos. Si no lo has pedido, puedes ignorar este correo.",
      ),
    },
  },
  de: {
    sms: {
      text: "Dein Bestätigungscode lautet {{code}}. Er ist {{lifetime}} gültig. Gib ihn niemals weiter.",
    },
    whatsapp: {
      text: "Dein Bestätigungscode lautet *{{code}}*. Er ist {{lifetime}} gültig. Gib ihn niemals weiter.",
    },
    telegram: {
      text: "Dein Bestätigungscode lautet {{code}}. Er ist {{lifetime}} gültig. Gib ihn niemals weiter, auch nicht an uns.",
    },
    email: {
      subject: "{{code}} ist dein Bestätigungscode",
      text: "Dein Bestätigungscode lautet {{code}}.\n\nEr ist {{lifetime}} gültig. Gib ihn niemals weiter: Wir werden dich nie danach fragen.\n\nFalls du diesen Code nicht angefordert hast, kannst du diese E-Mail ignorieren.",
      html: html(
        "de",
        "Dein Bestätigungscode",
        "Gib diesen Code ein, um fortzufahren. Er ist {{lifetime}} gültig.",
        "Gib diesen Code niemals weiter: Wir werden dich nie danach fragen. Falls du ihn nicht angefordert hast, kannst du diese E-Mail ignorieren.",
      ),
    },
  },
} satisfies Record<
  BuiltInTemplateLocale,
  { sms: MessageTemplate } & Partial<Record<ChannelKind, Partial<MessageTemplate>>>
>;

const placeholder = placeholderPattern;

// The catalog entry a channel's text comes from.
function templateChannelOf(channel: ChannelKind): "telegram" | "sms" | "whatsapp" | "email" {
  switch (channel) {
    case "outbox":
    case "telegram_gateway":
    case "voice":
      return "sms";
    default:
      return channel;
  }
}

/** Options for {@link createTemplates}. */
export interface TemplatesOptions {
  /** Replaces built-in templates field by field; read from TEMPLATES_FILE by `loadTemplateOverrides` in `config/`. */
  overrides?: TemplateCatalog;
  /** The locale used when a message names none or an unknown one; "en" by default. */
  defaultLocale?: string;
}

/**
 * Creates the {@link Templates}: the built-in catalog with `overrides` laid
 * over it. Throws when a template lacks `{{code}}` or names an unknown
 * placeholder, so a bad override fails at start-up, not at the first send.
 *
 * @example
 * const templates = createTemplates({ defaultLocale: "en" });
 * templates.render("sms", { code: "493027", ttlSeconds: 300, locale: "es" }).text;
 * // "Tu código de verificación es 493027. Caduca en 5 minutos. No lo compartas con nadie."
 */
export function createTemplates(options: TemplatesOptions = {}): Templates {
  const catalog = mergeCatalogs(builtInTemplates, options.overrides ?? {});
  try {
    checkCatalog(catalog);
  } catch (err) {
    throw new Error(`templates: ${(err as Error).message}`);
  }
  const defaultLocale = normalizeLocale(options.defaultLocale ?? "en");
  if (catalog[defaultLocale]?.sms?.text === undefined) {
    throw new Error(`templates: the default locale "${defaultLocale}" has no SMS template`);
  }
  const locales = [defaultLocale, ...Object.keys(catalog).filter((l) => l !== defaultLocale)];

  const resolveLocale = (requested: string | undefined): string => {
    if (requested !== undefined && requested !== "") {
      const tag = normalizeLocale(requested);
      if (catalog[tag] !== undefined) return tag;
      const language = tag.split("-")[0] ?? tag;
      if (catalog[language] !== undefined) return language;
    }
    return defaultLocale;
  };

  return {
    locales,
    defaultLocale,
    render(channel, message) {
      const locale = resolveLocale(message.locale);
      const byChannel = catalog[locale] ?? {};
      // The outbox stands in for SMS, so it reads like one; the Telegram
      // Gateway and voice render their own words, and read like SMS where
      // a text is asked of them.
      const own = byChannel[templateChannelOf(channel)] ?? {};
      const sms = byChannel.sms ?? {};
      const values = {
        code: message.code,
        lifetime: formatLifetime(message.ttlSeconds, locale),
      };
      const text = fill(own.text ?? sms.text ?? "", values);
      if (channel !== "email") return { text, locale };
      return {
        text,
        subject: fill(own.subject ?? "{{code}}", values),
        html: fill(own.html ?? `<p>${escapeHtml(own.text ?? sms.text ?? "")}</p>`, values, true),
        locale,
      };
    },
  };
}

let english: Templates | undefined;

/**
 * Renders the text that carries a code: the code, its lifetime and a warning
 * not to share it. It is the built-in English SMS template.
 *
 * @example
 * renderCodeText({ code: "493027", ttlSeconds: 300 });
 * // "Your verification code is 493027. It expires in 5 minutes. Never share it with anyone."
 */
export function renderCodeText(message: CodeMessage): string {
  english ??= createTemplates();
  return english.render("sms", { ...message, locale: "en" }).text;
}

/**
 * Says how long a code lives, in whole hours, minutes or seconds, in the
 * given locale.
 *
 * @example
 * formatLifetime(300, "de"); // "5 Minuten"
 */
export function formatLifetime(seconds: number, locale: string): string {
  const [amount, unit] =
    seconds > 0 && seconds % 3600 === 0
      ? [seconds / 3600, "hour"]
      : seconds > 0 && seconds % 60 === 0
        ? [seconds / 60, "minute"]
        : [seconds, "second"];
  try {
    return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(
      amount,
    );
  } catch {
    return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
  }
}

function mergeCatalogs(base: TemplateCatalog, overrides: TemplateCatalog): TemplateCatalog {
  const merged: TemplateCatalog = {};
  for (const locale of new Set([...Object.keys(base), ...Object.keys(overrides)])) {
    const tag = normalizeLocale(locale);
    const out: Partial<Record<ChannelKind, Partial<MessageTemplate>>> = { ...merged[tag] };
    for (const source of [base[locale], overrides[locale]]) {
      for (const [channel, template] of Object.entries(source ?? {})) {
        out[channel as ChannelKind] = { ...out[channel as ChannelKind], ...template };
      }
    }
    merged[tag] = out;
  }
  return merged;
}

function fill(template: string, values: Record<string, string>, asHtml = false): string {
  return template.replace(placeholder, (_, name: string) => {
    const value = values[name] ?? "";
    return asHtml ? escapeHtml(value) : value;
  });
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
