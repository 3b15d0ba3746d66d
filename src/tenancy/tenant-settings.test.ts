import { describe, expect, it } from "vitest";
import { isOtpError } from "../core/otp-error.js";
import { effectiveSettings } from "./effective-settings.js";
import { applySettingsUpdate } from "./settings-update.js";
import { emptySettings, type TenantSettings, validateTenantSettings } from "./tenant-settings.js";

const refusal = (settings: TenantSettings): [string, string] => {
  try {
    validateTenantSettings(settings);
    return ["ok", ""];
  } catch (err) {
    if (!isOtpError(err)) throw err;
    return [err.reason, err.field ?? ""];
  }
};

describe("tenant settings", () => {
  const base = emptySettings();

  it("accepts settings that set nothing, and normalises country codes and locales", () => {
    expect(validateTenantSettings(base)).toEqual(base);
    const valid = validateTenantSettings({
      ...base,
      templates: [{ channel: "sms", locale: "DE_at", text: "{{code}}", subject: "" }],
      geo: { channels: [{ channel: "sms", countries: [" us", "es"] }], reportOnly: false },
    });
    expect(valid.templates[0]?.locale).toBe("de-at");
    expect(valid.geo.channels[0]?.countries).toEqual(["US", "ES"]);
  });

  it.each([
    [
      { templates: [{ channel: "sms", locale: "", text: "hi", subject: "" }] },
      "TEMPLATE_CODE_MISSING",
      "settings.templates[0].text",
    ],
    [
      { templates: [{ channel: "sms", locale: "", text: "{{code}} {{name}}", subject: "" }] },
      "TENANT_SETTINGS_INVALID",
      "settings.templates[0].text",
    ],
    [
      { templates: [{ channel: "sms", locale: "", text: "{{code}}", subject: "x" }] },
      "TENANT_SETTINGS_INVALID",
      "settings.templates[0].subject",
    ],
    [{ brandName: "a\u202eb" }, "TENANT_SETTINGS_INVALID", "settings.brand_name"],
    [
      { codeDefaults: { ttlSeconds: 0, maxAttempts: 61, codeLength: 0, alphabet: "" } },
      "TENANT_SETTINGS_INVALID",
      "settings.code_defaults.max_attempts",
    ],
    [
      { limits: { ...emptySettings().limits, tenantGenerate: "0/1m" } },
      "TENANT_SETTINGS_INVALID",
      "settings.limits.tenant_generate",
    ],
    [
      { rateLimitBuckets: [{ name: "Login", limit: "5/1m" }] },
      "TENANT_SETTINGS_INVALID",
      "settings.rate_limit_buckets[0].name",
    ],
    [
      { rateLimitBuckets: [{ name: "login", limit: "off" }] },
      "TENANT_SETTINGS_INVALID",
      "settings.rate_limit_buckets[0].limit",
    ],
    [
      { allowedChannels: ["sms", "sms"] },
      "TENANT_SETTINGS_INVALID",
      "settings.allowed_channels[1]",
    ],
    [
      { geo: { channels: [{ channel: "sms", countries: ["USA"] }], reportOnly: false } },
      "TENANT_SETTINGS_INVALID",
      "settings.geo.channels[0].countries[0]",
    ],
  ] as [Partial<TenantSettings>, string, string][])(
    "refuses %j with %s",
    (patch, reason, field) => {
      expect(refusal({ ...base, ...patch })).toEqual([reason, field]);
    },
  );

  it("takes the masked fields, or every field set, and says which changed", () => {
    const current = { ...base, brandName: "Old", allowedChannels: ["sms" as const] };
    const patch = { ...base, brandName: "New" };
    expect(applySettingsUpdate(current, patch, "set")).toEqual({
      settings: { ...current, brandName: "New" },
      changed: ["brandName"],
    });
    expect(
      applySettingsUpdate(current, patch, ["allowedChannels"]).settings.allowedChannels,
    ).toEqual([]);
    expect(applySettingsUpdate(current, patch, "*")).toEqual({
      settings: patch,
      changed: ["brandName", "allowedChannels"],
    });
  });

  it("resolves stored settings once, into lookups", () => {
    const stored = validateTenantSettings({
      ...base,
      limits: { ...base.limits, publishablePerIp: "off", tenantGenerate: "100/1m" },
      rateLimitBuckets: [{ name: "user", limit: "5/1m" }],
    });
    const resolved = effectiveSettings(stored);
    expect(effectiveSettings(stored)).toBe(resolved);
    expect(resolved?.limits).toEqual({
      publishablePerIp: "off",
      tenantGenerate: { points: 100, windowMs: 60_000 },
      sendsPerRecipient: undefined,
      tenantSendsPerChannel: undefined,
    });
    expect(resolved?.buckets.get("user")).toEqual({ points: 5, windowMs: 60_000 });
    expect(effectiveSettings(undefined)).toBeUndefined();
  });
});
