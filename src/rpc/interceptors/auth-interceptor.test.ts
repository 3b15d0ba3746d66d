import { describe, expect, it } from "vitest";
import { AdminService } from "../../../gen/otp/v1/admin_pb.js";
import { DeliveryService } from "../../../gen/otp/v1/delivery_pb.js";
import { OtpService } from "../../../gen/otp/v1/otp_pb.js";
import { requiredScopes } from "./auth-interceptor.js";

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
