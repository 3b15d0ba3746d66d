// Over 300 lines because the settings type, its bounds, its schema and its
// validation are one contract, read together when a setting is added.
import { z } from "zod";
import { parseLimit, type RateLimit } from "../config/index.js";
import type { ChannelKind } from "../core/channel-kind.js";
import { OtpError } from "../core/otp-error.js";

/** The alphabets a tenant may make its default (the OTP domain's names). */
export type SettingsAlphabet = "numeric" | "alphanumeric" | "words";

/** A channel that reaches phone numbers (see {@link phoneChannels}). */
export type PhoneChannel = "sms" | "whatsapp" | "voice" | "telegram_gateway";

/** A tenant's text for one channel and locale ("" is the tenant's default locale). */
export interface TenantTemplate {
  channel: ChannelKind;
  locale: string;
  text: string;
  /** Email only; "" keeps the service's subject. */
  subject: string;
}

/** Limits a tenant overrides, each `<count>/<window>`, "off", or "" for the service-wide value. */
export interface TenantLimitTexts {
  publishablePerIp: string;
  tenantGenerate: string;
  sendsPerRecipient: string;
  tenantSendsPerChannel: string;
}

/**
 * What a tenant configures for itself, as stored beside its record. Every
 * empty value (0, "", []) means "the service-wide default".
 */
export interface TenantSettings {
  brandName: string;
  templates: TenantTemplate[];
  codeDefaults: {
    ttlSeconds: number;
    maxAttempts: number;
    codeLength: number;
    alphabet: SettingsAlphabet | "";
  };
  allowedChannels: ChannelKind[];
  geo: { channels: { channel: PhoneChannel; countries: string[] }[]; reportOnly: boolean };
  limits: TenantLimitTexts;
  rateLimitBuckets: { name: string; limit: string }[];
  /** Resend's code, and the lines that let phones fill a code in; "" keeps the service's. */
  codeDelivery: {
    reuse: "" | "same" | "new";
    smsAppHash: string;
    smsOriginDomain: string;
  };
  /** The guard against SMS pumping; "" and 0 keep the service's FRAUD_* settings. */
  fraudGuard: {
    mode: "" | "off" | "report" | "enforce";
    minSends: number;
    minVerifyPercent: number;
    windowSeconds: number;
    cooldownSeconds: number;
  };
}

/** The top-level fields of {@link TenantSettings}, as an update mask names them. */
export const settingsFields = [
  "brandName",
  "templates",
  "codeDefaults",
  "allowedChannels",
  "geo",
  "limits",
  "rateLimitBuckets",
  "codeDelivery",
  "fraudGuard",
] as const satisfies readonly (keyof TenantSettings)[];

/** One top-level field of {@link TenantSettings}. */
export type SettingsField = (typeof settingsFields)[number];

/** Settings that set nothing: every value is the service default. */
export function emptySettings(): TenantSettings {
  return {
    brandName: "",
    templates: [],
    codeDefaults: { ttlSeconds: 0, maxAttempts: 0, codeLength: 0, alphabet: "" },
    allowedChannels: [],
    geo: { channels: [], reportOnly: false },
    limits: {
      publishablePerIp: "",
      tenantGenerate: "",
      sendsPerRecipient: "",
      tenantSendsPerChannel: "",
    },
    rateLimitBuckets: [],
    codeDelivery: { reuse: "", smsAppHash: "", smsOriginDomain: "" },
    fraudGuard: {
      mode: "",
      minSends: 0,
      minVerifyPercent: 0,
      windowSeconds: 0,
      cooldownSeconds: 0,
    },
  };
}

/** The bounds settings are validated against. */
export const settingsBounds = {
  brandNameMax: 40,
  templatesMax: 50,
  templateTextMax: 1000,
  templateSubjectMax: 200,
  countriesMax: 250,
  bucketsMax: 10,
} as const;

const channel = z.enum([
  "telegram",
  "sms",
  "whatsapp",
  "email",
  "outbox",
  "telegram_gateway",
  "voice",
]) satisfies z.ZodType<ChannelKind>;
/** The channels that reach phone numbers, and so have destination countries. */
export const phoneChannels = ["sms", "whatsapp", "voice", "telegram_gateway"] as const;
// No control characters or bidirectional overrides; template texts may hold line breaks.
const unprintable = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const plain = (max: number) =>
  z
    .string()
    .max(max)
    .refine((t) => !unprintable.test(t), "control characters are not allowed");
const limitText = z.string().refine(
  (text) => {
    if (text === "") return true;
    try {
      parseLimit(text);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be "<count>/<window>" (such as 100/1m), "off", or empty' },
);
const optionalInt = (min: number, max: number) =>
  z
    .number()
    .int()
    .refine((n) => n === 0 || (n >= min && n <= max), {
      message: `must be 0 (the default) or ${min} to ${max}`,
    });

const schema = z.object({
  brandName: plain(settingsBounds.brandNameMax),
  templates: z
    .array(
      z.object({
        channel,
        locale: z.string().regex(/^([a-z]{2,3}(-[a-z0-9]{2,8}){0,3})?$/, "must be a language tag"),
        text: z
          .string()
          .min(1)
          .max(settingsBounds.templateTextMax)
          .refine(
            (t) => !unprintable.test(t.replace(/\n/g, "")),
            "control characters are not allowed",
          ),
        subject: plain(settingsBounds.templateSubjectMax),
      }),
    )
    .max(settingsBounds.templatesMax),
  codeDefaults: z.object({
    ttlSeconds: optionalInt(1, 3600),
    maxAttempts: optionalInt(1, 60),
    codeLength: optionalInt(4, 10),
    alphabet: z.enum(["", "numeric", "alphanumeric", "words"]),
  }),
  allowedChannels: z.array(channel).max(channel.options.length),
  geo: z.object({
    channels: z
      .array(
        z.object({
          channel: z.enum(phoneChannels),
          countries: z
            .array(z.string().regex(/^[A-Z]{2}$/, "must be ISO 3166-1 alpha-2 codes such as US"))
            .max(settingsBounds.countriesMax),
        }),
      )
      .max(phoneChannels.length),
    reportOnly: z.boolean(),
  }),
  limits: z.object({
    publishablePerIp: limitText,
    tenantGenerate: limitText,
    sendsPerRecipient: limitText,
    tenantSendsPerChannel: limitText,
  }),
  rateLimitBuckets: z
    .array(
      z.object({
        name: z.string().regex(/^[a-z0-9_-]{1,32}$/, "must be 1 to 32 of a-z, 0-9, _ and -"),
        limit: limitText.refine((t) => t !== "" && t.trim() !== "off", {
          message: 'must be "<count>/<window>" such as 5/1m',
        }),
      }),
    )
    .max(settingsBounds.bucketsMax),
  codeDelivery: z.object({
    reuse: z.enum(["", "same", "new"]),
    smsAppHash: z
      .string()
      .regex(/^([A-Za-z0-9+/]{11})?$/, "must be empty or the 11-character hash of an Android app"),
    smsOriginDomain: z
      .string()
      .regex(
        /^((?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})?$/,
        "must be empty or a lower-case domain name like login.example.com",
      ),
  }),
  fraudGuard: z.object({
    mode: z.enum(["", "off", "report", "enforce"]),
    minSends: zeroOr(1, 1_000_000),
    minVerifyPercent: zeroOr(1, 100),
    windowSeconds: zeroOr(60, 21_600),
    cooldownSeconds: zeroOr(60, 86_400),
  }),
});

// 0 (the service's value) or a whole number within [min, max].
function zeroOr(min: number, max: number) {
  return z
    .number()
    .int()
    .refine((n) => n === 0 || (n >= min && n <= max), {
      message: `must be 0 or between ${min} and ${max}`,
    });
}

const templatePlaceholder = /\{\{\s*([A-Za-z]+)\s*\}\}/g;
const templatePlaceholders = new Set(["code", "lifetime", "brand"]);

/**
 * Checks settings before they are stored: every bound above, every limit
 * parseable, every template with `{{code}}` and only known placeholders, no
 * channel, locale or bucket named twice. Throws `TENANT_SETTINGS_INVALID`,
 * or `TEMPLATE_CODE_MISSING` for a template without the code, naming the
 * field (such as `templates[2].text`). Returns the settings normalised
 * (country codes upper case, duplicates refused rather than merged).
 *
 * @example
 * validateTenantSettings({ ...emptySettings(), brandName: "Acme" });
 */
export function validateTenantSettings(input: TenantSettings): TenantSettings {
  const normalised = {
    ...input,
    geo: {
      ...input.geo,
      channels: input.geo.channels.map((c) => ({
        ...c,
        countries: c.countries.map((code) => code.trim().toUpperCase()),
      })),
    },
    templates: input.templates.map((t) => ({
      ...t,
      locale: t.locale.replace(/_/g, "-").toLowerCase(),
    })),
  };
  const parsed = schema.safeParse(normalised);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(pathOf(issue?.path ?? []), issue?.message ?? "invalid");
  }
  const settings = parsed.data as TenantSettings;
  settings.templates.forEach((t, i) => {
    for (const [field, text] of [
      ["text", t.text],
      ["subject", t.subject],
    ] as const) {
      const names = [...text.matchAll(templatePlaceholder)].map((m) => m[1] ?? "");
      const unknown = names.find((n) => !templatePlaceholders.has(n));
      if (unknown !== undefined) {
        throw invalid(`templates[${i}].${field}`, `unknown placeholder {{${unknown}}}`);
      }
      if (field === "text" && !names.includes("code")) {
        throw new OtpError("TEMPLATE_CODE_MISSING", "a template must contain {{code}}", {
          field: `settings.templates[${i}].text`,
        });
      }
    }
    if (t.subject !== "" && t.channel !== "email") {
      throw invalid(`templates[${i}].subject`, "only email templates have a subject");
    }
  });
  refuseDuplicates(
    settings.templates.map((t) => `${t.channel}/${t.locale}`),
    "templates",
  );
  refuseDuplicates(settings.allowedChannels, "allowed_channels");
  refuseDuplicates(
    settings.geo.channels.map((c) => c.channel),
    "geo.channels",
  );
  refuseDuplicates(
    settings.rateLimitBuckets.map((b) => b.name),
    "rate_limit_buckets",
  );
  return settings;
}

function refuseDuplicates(names: readonly string[], field: string): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) throw invalid(`${field}[${i}]`, `${name} is listed twice`);
    seen.add(name);
  });
}

// zod's path in the proto's snake_case names: ["geo","channels",0,"countries",3] → geo.channels[0].countries[3].
function pathOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else
      out += `${out === "" ? "" : "."}${String(part).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
  }
  return out;
}

function invalid(field: string, why: string): OtpError {
  return new OtpError("TENANT_SETTINGS_INVALID", `settings.${field}: ${why}`, {
    field: `settings.${field}`,
  });
}

/** A limit override as the hot path reads it: undefined keeps the service-wide value. */
export type LimitOverride = RateLimit | "off" | undefined;

/**
 * A stored limit text as the hot path reads it: "" is no override (the
 * service-wide value), otherwise the parsed limit or "off". Stored texts were
 * validated when saved, so this does not throw for them.
 *
 * @example
 * parseLimitOverride("100/1m"); // { points: 100, windowMs: 60_000 }
 */
export function parseLimitOverride(text: string): LimitOverride {
  return text === "" ? undefined : parseLimit(text);
}
