import { readFileSync } from "node:fs";

/** The channels a template can be written for. */
export type TemplateChannel = "telegram" | "sms" | "whatsapp" | "email" | "outbox";

/**
 * The template of one channel in one locale. Placeholders: `{{code}}` (the
 * code; required in the text and HTML) and `{{lifetime}}` (for example "5 minutes",
 * "5 minutos"). `subject` and `html` are used by email only.
 */
export interface MessageTemplate {
  text: string;
  subject?: string;
  html?: string;
}

/** Templates by locale, then by channel. Overrides may give only some fields. */
export type TemplateCatalog = Record<
  string,
  Partial<Record<TemplateChannel, Partial<MessageTemplate>>>
>;

/**
 * The locales the service has built-in templates for, every channel included.
 * Delivery's built-in catalog is typed by this list, so the two cannot differ.
 */
export const builtInTemplateLocales = ["en", "es", "de"] as const;

/** A locale with built-in templates. */
export type BuiltInTemplateLocale = (typeof builtInTemplateLocales)[number];

const channels: readonly TemplateChannel[] = ["telegram", "sms", "whatsapp", "email", "outbox"];
const fields: readonly (keyof MessageTemplate)[] = ["text", "subject", "html"];
/** A `{{name}}` placeholder, the name captured. */
export const placeholderPattern = /\{\{\s*([A-Za-z]+)\s*\}\}/g;
const knownPlaceholders = new Set(["code", "lifetime"]);

/**
 * Reads template overrides from a JSON file shaped like the catalog:
 * `{ "<locale>": { "<channel>": { "text": "...", "subject": "...", "html": "..." } } }`,
 * and checks their placeholders. Throws with the file path and the offending entry.
 *
 * @example
 * // templates.json: { "en": { "sms": { "text": "{{code}} is your Acme code. Expires in {{lifetime}}. Don't share it." } } }
 * createTemplates({ overrides: loadTemplateOverrides(process.env.TEMPLATES_FILE) });
 */
export function loadTemplateOverrides(path: string): TemplateCatalog {
  try {
    const catalog = parseCatalog(JSON.parse(readFileSync(path, "utf8")));
    checkCatalog(catalog);
    return catalog;
  } catch (err) {
    throw new Error(`templates file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Checks that `value` is a {@link TemplateCatalog}; throws naming the first bad entry. */
export function parseCatalog(value: unknown): TemplateCatalog {
  if (!isRecord(value)) throw new Error("expected an object of locales");
  const catalog: TemplateCatalog = {};
  for (const [locale, byChannel] of Object.entries(value)) {
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(locale)) {
      throw new Error(`"${locale}" is not a locale tag`);
    }
    if (!isRecord(byChannel)) throw new Error(`${locale}: expected an object of channels`);
    const entry: Partial<Record<TemplateChannel, Partial<MessageTemplate>>> = {};
    for (const [channel, template] of Object.entries(byChannel)) {
      if (!channels.includes(channel as TemplateChannel)) {
        throw new Error(`${locale}.${channel}: unknown channel (use ${channels.join(", ")})`);
      }
      if (!isRecord(template)) throw new Error(`${locale}.${channel}: expected an object`);
      const parsed: Partial<MessageTemplate> = {};
      for (const [field, text] of Object.entries(template)) {
        if (!fields.includes(field as keyof MessageTemplate)) {
          throw new Error(`${locale}.${channel}.${field}: unknown field (use text, subject, html)`);
        }
        if (typeof text !== "string")
          throw new Error(`${locale}.${channel}.${field}: expected a string`);
        parsed[field as keyof MessageTemplate] = text;
      }
      entry[channel as TemplateChannel] = parsed;
    }
    catalog[normalizeLocale(locale)] = entry;
  }
  return catalog;
}

/**
 * Checks the placeholders of every template: only `{{code}}` and
 * `{{lifetime}}`, and `{{code}}` in every text and HTML. Throws naming the
 * first bad template.
 */
export function checkCatalog(catalog: TemplateCatalog): void {
  for (const [locale, byChannel] of Object.entries(catalog)) {
    for (const [channel, template] of Object.entries(byChannel)) {
      for (const field of fields) {
        const text = template?.[field];
        if (text === undefined) continue;
        const where = `${locale}.${channel}.${field}`;
        const names = [...text.matchAll(placeholderPattern)].map((m) => m[1] ?? "");
        const unknown = names.find((n) => !knownPlaceholders.has(n));
        if (unknown !== undefined) throw new Error(`${where}: unknown placeholder {{${unknown}}}`);
        // A subject may leave the code out, so it does not show on a lock screen.
        if (field !== "subject" && !names.includes("code")) {
          throw new Error(`${where}: must contain {{code}}`);
        }
      }
    }
  }
}

/**
 * Gives a locale tag in the catalog's spelling: lower case, `-` separated.
 *
 * @example
 * normalizeLocale("de_AT"); // "de-at"
 */
export function normalizeLocale(tag: string): string {
  return tag.trim().replace(/_/g, "-").toLowerCase();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
