import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../gen/otp/v1/admin_pb.js";
import { OtpError } from "../core/otp-error.js";
import type { AdminStore } from "../tenancy/admin-store.js";
import type { UsageStore } from "../tenancy/limit-store.js";
import { parseLimitOverride } from "../tenancy/tenant-settings.js";
import { tenantOrThrow } from "./admin-convert.js";
import { callerKey, defaultTenantId } from "./caller.js";

/** One of a tenant's quotas, as GetUsage reports it beside the counters that count against it. */
export interface TenantQuota {
  /** The limit bucket, for example "tenant_generate". */
  name: string;
  /** The usage counters counted against it, for example ["rpc:Generate", "rpc:Resend"]. */
  counters: string[];
  limit: number;
  windowMs: number;
}

const dayMs = 86_400_000;

/**
 * The tenant a call may act on: the requested one for the admin credential;
 * for a tenant's admin key its own, and another tenant's id answers as a
 * tenant that does not exist. An empty request means the caller's own.
 */
export function ownTenantOrThrow(ctx: HandlerContext, requested: string): string {
  const caller = ctx.values.get(callerKey);
  if (caller?.kind === "admin") return requested;
  const own = caller?.tenantId ?? "";
  if (requested !== "" && requested !== own) {
    throw new OtpError("TENANT_NOT_FOUND", "no tenant has this id");
  }
  return own;
}

/** GetUsage: an admin reads any tenant's, a tenant's admin key only its own. */
export function usageHandlers(
  admin: AdminStore,
  store: Pick<UsageStore, "getUsage">,
  now: () => number,
  quotas: readonly TenantQuota[],
): Pick<ServiceImpl<typeof AdminService>, "getUsage"> {
  const quotaMessages = quotas.map((q) => ({
    name: q.name,
    counters: q.counters,
    limit: BigInt(q.limit),
    windowSeconds: BigInt(Math.round(q.windowMs / 1000)),
    dailyLimit: BigInt(Math.floor((q.limit * dayMs) / q.windowMs)),
  }));
  return {
    async getUsage(req, ctx) {
      const caller = ctx.values.get(callerKey);
      const tenantId = ownTenantOrThrow(ctx, req.tenantId);
      // "default" holds anonymous development callers; it is never created, yet has usage.
      const tenant =
        caller?.kind === "admin" && tenantId !== defaultTenantId
          ? await tenantOrThrow(admin, tenantId)
          : tenantId === defaultTenantId
            ? undefined
            : await admin.getTenant(tenantId);
      const days = req.days === 0 ? 7 : req.days;
      if (!Number.isInteger(days) || days < 1 || days > 31) {
        throw new OtpError("PAGE_SIZE_INVALID", "days must be 0 (7) or between 1 and 31", {
          field: "days",
        });
      }
      const dates = Array.from({ length: days }, (_, i) =>
        new Date(now() - i * dayMs).toISOString().slice(0, 10),
      );
      const usage = await store.getUsage(tenantId, dates);
      return {
        days: dates.map((date) => ({
          date,
          counters: Object.fromEntries(
            Object.entries(usage[date] ?? {}).map(([k, v]) => [k, BigInt(v)]),
          ),
        })),
        quotas: withOwnQuota(quotaMessages, tenant?.settings?.limits),
      };
    },
  };
}

type QuotaMessage = {
  name: string;
  counters: string[];
  limit: bigint;
  windowSeconds: bigint;
  dailyLimit: bigint;
};

// The tenant's own quotas from its settings, in place of the service's ("off": none).
function withOwnQuota(
  quotas: QuotaMessage[],
  own: { tenantGenerate: string; tenantSendsPerChannel: string } | undefined,
): QuotaMessage[] {
  if (own === undefined) return quotas;
  const generate = parseLimitOverride(own.tenantGenerate);
  const sends = parseLimitOverride(own.tenantSendsPerChannel);
  return quotas.flatMap((q) => {
    const limit =
      q.name === "tenant_generate"
        ? generate
        : q.name.startsWith("tenant_sends_")
          ? sends
          : undefined;
    if (limit === undefined) return [q];
    if (limit === "off") return [];
    return [
      {
        ...q,
        limit: BigInt(limit.points),
        windowSeconds: BigInt(Math.round(limit.windowMs / 1000)),
        dailyLimit: BigInt(Math.floor((limit.points * dayMs) / limit.windowMs)),
      },
    ];
  });
}
