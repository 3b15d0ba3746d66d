import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../gen/otp/v1/admin_pb.js";
import type { AuditRecorder } from "../audit/audit-recorder.js";
import { boundedText } from "../core/bounded-text.js";
import { OtpError } from "../core/otp-error.js";
import type { AdminStore } from "../tenancy/admin-store.js";
import {
  keyToProto,
  ownKeyOrThrow,
  tenantName,
  tenantOrThrow,
  tenantToProto,
} from "./admin-convert.js";
import { adminChange } from "./audit-context.js";

type LifecycleHandlers = Pick<
  ServiceImpl<typeof AdminService>,
  "renameTenant" | "suspendTenant" | "resumeTenant" | "deleteTenant" | "deleteApiKey"
>;

const tenantNotFound = () => new OtpError("TENANT_NOT_FOUND", "no tenant has this id");

/**
 * RenameTenant, SuspendTenant, ResumeTenant, DeleteTenant and DeleteApiKey.
 * Each change goes through the cached admin store, which tells every replica
 * to forget the keys concerned (tenancy/cached-admin-store.ts), and is then
 * audited with the call's actor, request id and masked address.
 */
export function createLifecycleHandlers(
  admin: AdminStore,
  audit: AuditRecorder,
  now: () => number,
  /** Told of each key a deletion revoked, for the `key.revoked` event. */
  onKeyRevoked?: (tenantId: string, keyId: string) => void,
): LifecycleHandlers {
  return {
    ...tenantStateHandlers(admin, audit, now),
    ...deletionHandlers(admin, audit, now, onKeyRevoked),
  };
}

// RenameTenant, SuspendTenant, ResumeTenant.
function tenantStateHandlers(
  admin: AdminStore,
  audit: AuditRecorder,
  now: () => number,
): Pick<LifecycleHandlers, "renameTenant" | "suspendTenant" | "resumeTenant"> {
  return {
    async renameTenant(req, ctx) {
      const name = tenantName(req.name);
      const before = await tenantOrThrow(admin, req.tenantId);
      const tenant = await admin.updateTenant(before.id, { name });
      if (tenant === undefined) throw tenantNotFound();
      await audit.record(
        adminChange(ctx.values, {
          tenantId: tenant.id,
          action: "tenant.renamed",
          target: tenant.id,
          details: { from: before.name, to: name },
        }),
      );
      return { tenant: tenantToProto(tenant) };
    },

    async suspendTenant(req, ctx) {
      const reason = boundedText(req.reason, { min: 0, max: 200 });
      if (reason === undefined) {
        throw new OtpError(
          "TENANT_NAME_INVALID",
          "reason must be at most 200 characters without control characters",
          { field: "reason" },
        );
      }
      await tenantOrThrow(admin, req.tenantId);
      const tenant = await admin.updateTenant(req.tenantId, { suspendedAtMs: now() });
      if (tenant === undefined) throw tenantNotFound();
      await audit.record(
        adminChange(ctx.values, {
          tenantId: tenant.id,
          action: "tenant.suspended",
          target: tenant.id,
          details: reason === "" ? {} : { reason },
        }),
      );
      return { tenant: tenantToProto(tenant) };
    },

    async resumeTenant(req, ctx) {
      await tenantOrThrow(admin, req.tenantId);
      const tenant = await admin.updateTenant(req.tenantId, { suspendedAtMs: 0 });
      if (tenant === undefined) throw tenantNotFound();
      await audit.record(
        adminChange(ctx.values, {
          tenantId: tenant.id,
          action: "tenant.resumed",
          target: tenant.id,
        }),
      );
      return { tenant: tenantToProto(tenant) };
    },
  };
}

// DeleteTenant, DeleteApiKey.
function deletionHandlers(
  admin: AdminStore,
  audit: AuditRecorder,
  now: () => number,
  onKeyRevoked?: (tenantId: string, keyId: string) => void,
): Pick<LifecycleHandlers, "deleteTenant" | "deleteApiKey"> {
  return {
    async deleteTenant(req, ctx) {
      const deleted =
        req.tenantId === "" ? undefined : await admin.deleteTenant(req.tenantId, now());
      if (deleted === undefined) throw tenantNotFound();
      const { tenant, keys } = deleted;
      for (const key of keys) {
        onKeyRevoked?.(tenant.id, key.id);
        await audit.record(
          adminChange(ctx.values, { tenantId: tenant.id, action: "key.deleted", target: key.id }),
        );
      }
      await audit.record(
        adminChange(ctx.values, {
          tenantId: tenant.id,
          action: "tenant.deleted",
          target: tenant.id,
          details: { name: tenant.name, keys_deleted: String(keys.length) },
        }),
      );
      return { tenant: tenantToProto(tenant), deletedKeyIds: keys.map((k) => k.id) };
    },

    async deleteApiKey(req, ctx) {
      if (req.keyId !== "") await ownKeyOrThrow(admin, ctx, req.keyId);
      const key = req.keyId === "" ? undefined : await admin.deleteApiKey(req.keyId, now());
      if (key === undefined) throw new OtpError("API_KEY_NOT_FOUND", "no key has this id");
      onKeyRevoked?.(key.tenantId, key.id);
      await audit.record(
        adminChange(ctx.values, { tenantId: key.tenantId, action: "key.deleted", target: key.id }),
      );
      return { key: keyToProto(key) };
    },
  };
}
