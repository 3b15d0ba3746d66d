import { normalizeLocale, placeholderPattern } from "../config/index.js";
import type { ChannelKind } from "../core/channel-kind.js";
import type { MessageStyle } from "./channel.js";

// What templates.ts renders with, and the tenant templates laid over its
// catalog: kept apart so each module stays one screen of concern.

/** A code message as rendered: the code, its lifetime, the locale asked for, a tenant's style. */
interface StyledMessage {
  code: string;
  ttlSeconds: number;
  locale?: string;
}

/** A rendered message (see templates.ts). */
interface Rendered {
  text: string;
  subject?: string;
  html?: string;
  locale: string;
}

/**
 * Renders a tenant's own template for the channel (the outbox reads as SMS)
 * in the requested locale, its language, or the tenant's default locale; a
 * channel without one falls back to the tenant's SMS text, as built-in ones
 * do. Undefined when the tenant has none that fits: the service's catalog then.
 *
 * @example
 * renderStyled(style, "sms", { code: "4930", ttlSeconds: 300, locale: "en" });
 */
export function renderStyled(
  style: MessageStyle,
  channel: ChannelKind,
  message: StyledMessage,
): Rendered | undefined {
  if (style.templates.size === 0) return undefined;
  const tag = message.locale === undefined ? "" : normalizeLocale(message.locale);
  const language = tag.split("-")[0] ?? "";
  const own = templateChannelOf(channel);
  for (const locale of tag === "" ? [""] : [tag, language, ""]) {
    const template =
      style.templates.get(`${own}/${locale}`) ?? style.templates.get(`sms/${locale}`);
    if (template === undefined) continue;
    const shown = locale === "" ? (tag === "" ? "en" : tag) : locale;
    const values = {
      code: message.code,
      lifetime: formatLifetime(message.ttlSeconds, shown),
      brand: style.brandName,
    };
    const text = fill(template.text, values);
    if (channel !== "email") return { text, locale: shown };
    const subject =
      template.subject === "" ? `{{code}} ${style.brandName}`.trim() : template.subject;
    return {
      text,
      subject: fill(subject, values),
      html: `<p>${escapeHtml(text).replace(/\n/g, "<br>")}</p>`,
      locale: shown,
    };
  }
  return undefined;
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

/** The catalog entry a channel's text comes from: the outbox, the Telegram Gateway and voice read as SMS. */
export function templateChannelOf(channel: ChannelKind): "telegram" | "sms" | "whatsapp" | "email" {
  switch (channel) {
    case "outbox":
    case "telegram_gateway":
    case "voice":
      return "sms";
    default:
      return channel;
  }
}

/** Fills `{{name}}` placeholders; HTML-escapes the values when `asHtml`. */
export function fill(template: string, values: Record<string, string>, asHtml = false): string {
  return template.replace(placeholderPattern, (_, name: string) => {
    const value = values[name] ?? "";
    return asHtml ? escapeHtml(value) : value;
  });
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
