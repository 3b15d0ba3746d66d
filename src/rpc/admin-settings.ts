import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../gen/otp/v1/admin_pb.js";
import { Alphabet } from "../../gen/otp/v1/otp_pb.js";
import {
  CodeReuse,
  FraudGuardMode,
  type TenantSettings as ProtoSettings,
  TenantSettingsSchema,
} from "../../gen/otp/v1/settings_pb.js";
import type { AuditRecorder } from "../audit/audit-recorder.js";
import type { ChannelKind } from "../core/channel-kind.js";
import { OtpError } from "../core/otp-error.js";
import type { AdminStore } from "../tenancy/admin-store.js";
import { applySettingsUpdate } from "../tenancy/settings-update.js";
import {
  emptySettings,
  type PhoneChannel,
  phoneChannels,
  type SettingsField,
  settingsFields,
  type TenantSettings,
  validateTenantSettings,
} from "../tenancy/tenant-settings.js";
import { tenantOrThrow } from "./admin-convert.js";
import { ownTenantOrThrow } from "./admin-usage.js";
import { adminChange } from "./audit-context.js";
import { callerKey } from "./caller.js";
import { alphabetFromProto, alphabetToProto, channelFromProto, channelToProto } from "./convert.js";

type SettingsHandlers = Pick<
  ServiceImpl<typeof AdminService>,
  "getTenantSettings" | "updateTenantSettings"
>;

const tenantNotFound = () => new OtpError("TENANT_NOT_FOUND", "no tenant has this id");

/**
 * GetTenantSettings and UpdateTenantSettings. An update takes the fields its
 * update mask names (AIP-134: an empty mask takes every field the request
 * sets, "*" replaces them all), validates the result as a whole, stores it
 * through the cached admin store (which tells every replica to reload the
 * tenant's keys, and so its settings) and audits which fields changed.
 */
export function createSettingsHandlers(admin: AdminStore, audit: AuditRecorder): SettingsHandlers {
  return {
    async getTenantSettings(req, ctx) {
      // A tenant's key reads its own settings (tenant_id empty or its own); another's reads as unknown.
      const tenant = await tenantOrThrow(admin, ownTenantOrThrow(ctx, req.tenantId));
      return { settings: settingsToProto(tenant.settings ?? emptySettings()) };
    },

    async updateTenantSettings(req, ctx) {
      const mask = maskOf(req.updateMask?.paths ?? []);
      const before = await tenantOrThrow(admin, ownTenantOrThrow(ctx, req.tenantId));
      const patch = settingsFromProto(req.settings ?? create(TenantSettingsSchema));
      // Settings stored before a field existed take that field's default.
      const current = { ...emptySettings(), ...before.settings };
      const { settings, changed } = applySettingsUpdate(current, patch, mask);
      // Quotas bound what a tenant may spend: the operator sets them, not the tenant's own keys.
      if (changed.includes("limits") && ctx.values.get(callerKey)?.kind !== "admin") {
        throw new OtpError("PERMISSION_DENIED", "only the operator changes a tenant's quotas", {
          metadata: { need: "operator" },
        });
      }
      const valid = validateTenantSettings(settings);
      if (changed.length > 0) {
        const tenant = await admin.updateTenant(before.id, { settings: valid });
        if (tenant === undefined) throw tenantNotFound();
        await audit.record(
          adminChange(ctx.values, {
            tenantId: before.id,
            action: "tenant.settings_updated",
            target: before.id,
            // Field names only: bounded, and never a template's text.
            details: { fields: changed.map(snake).join(",") },
          }),
        );
      }
      return { settings: settingsToProto(changed.length > 0 ? valid : current) };
    },
  };
}

const byPath = new Map<string, SettingsField>(settingsFields.map((f) => [snake(f), f]));

function maskOf(paths: readonly string[]): readonly SettingsField[] | "*" | "set" {
  if (paths.length === 0) return "set";
  if (paths.length === 1 && paths[0] === "*") return "*";
  return paths.map((path) => {
    const field = byPath.get(path) ?? byPath.get(snake(path));
    if (field === undefined) {
      throw new OtpError("UPDATE_MASK_INVALID", `"${path.slice(0, 40)}" is not a settings field`, {
        field: "update_mask",
      });
    }
    return field;
  });
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

// An unspecified channel or alphabet becomes "invalid" and is refused by validation.
function channelOf(value: number, field: string): ChannelKind {
  const kind = channelFromProto(value);
  if (kind === "invalid") {
    throw new OtpError("TENANT_SETTINGS_INVALID", `${field}: not a channel`, { field });
  }
  return kind;
}

/** Proto settings to the domain's, enums checked; bounds are checked by validateTenantSettings. */
export function settingsFromProto(p: ProtoSettings): TenantSettings {
  const alphabet =
    p.codeDefaults === undefined || p.codeDefaults.alphabet === Alphabet.UNSPECIFIED
      ? ""
      : alphabetFromProto(p.codeDefaults.alphabet);
  if (alphabet === "invalid") {
    throw new OtpError("TENANT_SETTINGS_INVALID", "not an alphabet", {
      field: "settings.code_defaults.alphabet",
    });
  }
  return {
    brandName: p.brandName,
    templates: p.templates.map((t, i) => ({
      channel: channelOf(t.channel, `settings.templates[${i}].channel`),
      locale: t.locale,
      text: t.text,
      subject: t.subject,
    })),
    codeDefaults: {
      ttlSeconds: p.codeDefaults?.ttlSeconds ?? 0,
      maxAttempts: p.codeDefaults?.maxAttempts ?? 0,
      codeLength: p.codeDefaults?.codeLength ?? 0,
      alphabet,
    },
    allowedChannels: p.allowedChannels.map((c, i) =>
      channelOf(c, `settings.allowed_channels[${i}]`),
    ),
    geo: {
      channels: (p.geo?.channels ?? []).map((c, i) => {
        const channel = channelOf(c.channel, `settings.geo.channels[${i}].channel`);
        if (!isPhoneChannel(channel)) {
          throw new OtpError("TENANT_SETTINGS_INVALID", "only phone channels have countries", {
            field: `settings.geo.channels[${i}].channel`,
          });
        }
        return { channel, countries: [...c.countries] };
      }),
      reportOnly: p.geo?.reportOnly ?? false,
    },
    limits: {
      publishablePerIp: p.limits?.publishablePerIp ?? "",
      tenantGenerate: p.limits?.tenantGenerate ?? "",
      sendsPerRecipient: p.limits?.sendsPerRecipient ?? "",
      tenantSendsPerChannel: p.limits?.tenantSendsPerChannel ?? "",
    },
    rateLimitBuckets: p.rateLimitBuckets.map((b) => ({ name: b.name, limit: b.limit })),
    codeDelivery: {
      reuse: reuseFromProto(p.codeDelivery?.reuse ?? CodeReuse.UNSPECIFIED),
      smsAppHash: p.codeDelivery?.smsRetrieverAppHash ?? "",
      smsOriginDomain: p.codeDelivery?.smsOriginBoundDomain ?? "",
    },
    fraudGuard: {
      mode: fraudModes[p.fraudGuard?.mode ?? FraudGuardMode.UNSPECIFIED] ?? invalidFraudMode(),
      minSends: p.fraudGuard?.minSends ?? 0,
      minVerifyPercent: p.fraudGuard?.minVerifyPercent ?? 0,
      windowSeconds: p.fraudGuard?.windowSeconds ?? 0,
      cooldownSeconds: p.fraudGuard?.cooldownSeconds ?? 0,
    },
  };
}

const fraudModes: Record<number, TenantSettings["fraudGuard"]["mode"]> = {
  [FraudGuardMode.UNSPECIFIED]: "",
  [FraudGuardMode.OFF]: "off",
  [FraudGuardMode.REPORT]: "report",
  [FraudGuardMode.ENFORCE]: "enforce",
};

function invalidFraudMode(): never {
  throw new OtpError("TENANT_SETTINGS_INVALID", "not a fraud guard mode", {
    field: "settings.fraud_guard.mode",
  });
}

function reuseFromProto(reuse: CodeReuse): TenantSettings["codeDelivery"]["reuse"] {
  if (reuse === CodeReuse.SAME_CODE) return "same";
  if (reuse === CodeReuse.NEW_CODE) return "new";
  if (reuse === CodeReuse.UNSPECIFIED) return "";
  throw new OtpError("TENANT_SETTINGS_INVALID", "not a code reuse", {
    field: "settings.code_delivery.reuse",
  });
}

/** Domain settings to proto. */
export function settingsToProto(stored: TenantSettings) {
  // Settings stored before a field existed read as that field's default.
  const s: TenantSettings = { ...emptySettings(), ...stored };
  return create(TenantSettingsSchema, {
    brandName: s.brandName,
    templates: s.templates.map((t) => ({ ...t, channel: channelToProto(t.channel) })),
    codeDefaults: {
      ttlSeconds: s.codeDefaults.ttlSeconds,
      maxAttempts: s.codeDefaults.maxAttempts,
      codeLength: s.codeDefaults.codeLength,
      alphabet:
        s.codeDefaults.alphabet === ""
          ? Alphabet.UNSPECIFIED
          : alphabetToProto(s.codeDefaults.alphabet),
    },
    allowedChannels: s.allowedChannels.map(channelToProto),
    geo: {
      channels: s.geo.channels.map((c) => ({
        channel: channelToProto(c.channel),
        countries: c.countries,
      })),
      reportOnly: s.geo.reportOnly,
    },
    limits: s.limits,
    rateLimitBuckets: s.rateLimitBuckets,
    codeDelivery: {
      reuse:
        s.codeDelivery.reuse === "same"
          ? CodeReuse.SAME_CODE
          : s.codeDelivery.reuse === "new"
            ? CodeReuse.NEW_CODE
            : CodeReuse.UNSPECIFIED,
      smsRetrieverAppHash: s.codeDelivery.smsAppHash,
      smsOriginBoundDomain: s.codeDelivery.smsOriginDomain,
    },
    fraudGuard: {
      ...s.fraudGuard,
      mode: Number(
        Object.entries(fraudModes).find(([, name]) => name === s.fraudGuard.mode)?.[0] ?? 0,
      ) as FraudGuardMode,
    },
  });
}

function isPhoneChannel(channel: ChannelKind): channel is PhoneChannel {
  return (phoneChannels as readonly string[]).includes(channel);
}
