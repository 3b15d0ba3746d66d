import type { RateLimit } from "../config/index.js";
import type { ChannelKind } from "../core/channel-kind.js";
import {
  type LimitOverride,
  parseLimitOverride,
  type SettingsAlphabet,
  type TenantSettings,
  type TenantTemplate,
} from "./tenant-settings.js";

/**
 * A tenant's settings as the hot path reads them: parsed once, looked up by
 * map, never re-read per call. Built the first time a call of the tenant
 * needs them and kept as long as the stored settings object lives (the key
 * cache holds it; a change replaces it on every replica through the feed).
 */
export interface EffectiveSettings {
  brandName: string;
  /** Tenant templates by `<channel>/<locale>` ("" locale: the tenant's default). */
  templates: ReadonlyMap<string, TenantTemplate>;
  /** 0 keeps the service default. */
  ttlSeconds: number;
  maxAttempts: number;
  codeLength: number;
  alphabet: SettingsAlphabet | undefined;
  /** Undefined: every channel the service serves. */
  allowedChannels: ReadonlySet<ChannelKind> | undefined;
  /** Allowed destination countries per phone channel; a channel absent keeps the service-wide list only. */
  countries: ReadonlyMap<ChannelKind, ReadonlySet<string>>;
  /** When true, a number outside `countries` is reported, not refused. */
  geoReportOnly: boolean;
  limits: {
    publishablePerIp: LimitOverride;
    tenantGenerate: LimitOverride;
    sendsPerRecipient: LimitOverride;
    tenantSendsPerChannel: LimitOverride;
  };
  /** The tenant's buckets for caller-supplied rate-limit keys. */
  buckets: ReadonlyMap<string, RateLimit>;
  /** A new code for every Resend (true), the same code (false), or the service's choice. */
  newCodePerSend: boolean | undefined;
  /** The lines that let phones fill in a code sent by SMS; undefined keeps the service's. */
  smsAutofill: { appHash?: string; domain?: string } | undefined;
}

const resolved = new WeakMap<TenantSettings, EffectiveSettings>();

/**
 * The {@link EffectiveSettings} of stored settings, computed once per
 * settings object (a WeakMap, like the caller records of the auth
 * interceptor): a call of a known key allocates nothing here. Undefined
 * when the tenant set nothing.
 *
 * @example
 * const settings = effectiveSettings(credential.tenant?.settings);
 * settings?.buckets.get("login"); // { points: 5, windowMs: 60_000 }
 */
export function effectiveSettings(
  settings: TenantSettings | undefined,
): EffectiveSettings | undefined {
  if (settings === undefined) return undefined;
  let out = resolved.get(settings);
  if (out === undefined) {
    out = resolve(settings);
    resolved.set(settings, out);
  }
  return out;
}

function resolve(s: TenantSettings): EffectiveSettings {
  const buckets = new Map<string, RateLimit>();
  for (const b of s.rateLimitBuckets) {
    const limit = parseLimitOverride(b.limit);
    if (limit !== undefined && limit !== "off") buckets.set(b.name, limit);
  }
  return {
    brandName: s.brandName,
    templates: new Map(s.templates.map((t) => [`${t.channel}/${t.locale}`, t])),
    ttlSeconds: s.codeDefaults.ttlSeconds,
    maxAttempts: s.codeDefaults.maxAttempts,
    codeLength: s.codeDefaults.codeLength,
    alphabet: s.codeDefaults.alphabet === "" ? undefined : s.codeDefaults.alphabet,
    allowedChannels: s.allowedChannels.length === 0 ? undefined : new Set(s.allowedChannels),
    countries: new Map(s.geo.channels.map((c) => [c.channel, new Set(c.countries)])),
    geoReportOnly: s.geo.reportOnly,
    limits: {
      publishablePerIp: parseLimitOverride(s.limits.publishablePerIp),
      tenantGenerate: parseLimitOverride(s.limits.tenantGenerate),
      sendsPerRecipient: parseLimitOverride(s.limits.sendsPerRecipient),
      tenantSendsPerChannel: parseLimitOverride(s.limits.tenantSendsPerChannel),
    },
    buckets,
    ...codeDelivery(s.codeDelivery),
  };
}

// Settings stored before codeDelivery existed have none: the service's choices stand.
function codeDelivery(
  d: TenantSettings["codeDelivery"] | undefined,
): Pick<EffectiveSettings, "newCodePerSend" | "smsAutofill"> {
  const autofill = {
    ...(d === undefined || d.smsAppHash === "" ? {} : { appHash: d.smsAppHash }),
    ...(d === undefined || d.smsOriginDomain === "" ? {} : { domain: d.smsOriginDomain }),
  };
  return {
    newCodePerSend: d === undefined || d.reuse === "" ? undefined : d.reuse === "new",
    smsAutofill: Object.keys(autofill).length === 0 ? undefined : autofill,
  };
}
