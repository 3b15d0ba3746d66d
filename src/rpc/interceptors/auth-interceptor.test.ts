import { describe, expect, it } from "vitest";
import { AdminService } from "../../../gen/otp/v1/admin_pb.js";
import { DeliveryService } from "../../../gen/otp/v1/delivery_pb.js";
import { OtpService } from "../../../gen/otp/v1/otp_pb.js";
import { authorizeSession, requiredScopes } from "./auth-interceptor.js";

describe("required scopes", () => {
  it("name a scope for every RPC of our services, so none is reachable without a key", () => {
    for (const service of [OtpService, DeliveryService, AdminService]) {
      for (const method of service.methods) {
        expect(
          requiredScopes[`${service.typeName}/${method.name}`],
          `${service.typeName}/${method.name}`,
        ).toBeDefined();
      }
    }
  });
});

describe("console sessions", () => {
  const tenant = { kind: "tenant" as const, tenantId: "ten_a", keyId: "otp_sk_0123abcd" };

  it("give the operator the admin credential's reach, on AdminService only", () => {
    const operator = { kind: "operator" as const, tenantId: "", keyId: "admin", scopes: [] };
    expect(authorizeSession("otp.v1.AdminService/CreateTenant", operator).kind).toBe("admin");
    expect(() => authorizeSession("otp.v1.OtpService/Generate", operator)).toThrow(
      expect.objectContaining({ reason: "UNAUTHENTICATED" }),
    );
  });

  it("hold a tenant's session to its key's admin scopes", () => {
    const manager = authorizeSession("otp.v1.AdminService/ListApiKeys", {
      ...tenant,
      scopes: ["admin"],
    });
    expect(manager).toMatchObject({ tenantId: "ten_a", kind: "secret" });
    expect(
      authorizeSession("otp.v1.AdminService/GetUsage", { ...tenant, scopes: ["admin"] }).tenantId,
    ).toBe("ten_a");
    expect(() =>
      authorizeSession("otp.v1.AdminService/CreateTenant", { ...tenant, scopes: ["admin"] }),
    ).toThrow(expect.objectContaining({ reason: "PERMISSION_DENIED" }));
    expect(() =>
      authorizeSession("otp.v1.AdminService/ListApiKeys", { ...tenant, scopes: ["admin-read"] }),
    ).toThrow(expect.objectContaining({ reason: "PERMISSION_DENIED" }));
  });
});
