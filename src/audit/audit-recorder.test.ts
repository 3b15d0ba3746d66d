import { describe, expect, it } from "vitest";
import { createMemoryAuditTrail } from "../store/memory/audit-trail.js";
import { createAuditRecorder } from "./audit-recorder.js";

const trailOf = () => createMemoryAuditTrail({ retentionMs: 86_400_000, maxEntries: 1000 });
const refused = (target: string) => ({
  actor: { kind: "api-key" as const, id: target },
  tenantId: "ten_a",
  action: "key.used_after_revocation",
  target,
});

describe("createAuditRecorder", () => {
  it("writes one security event per action and target per window, whatever the flood", async () => {
    const trail = trailOf();
    const audit = createAuditRecorder({ trail, windowMs: 200 });
    for (let i = 0; i < 100; i++) audit.recordSecurityEvent(refused("otp_sk_11111111"));
    audit.recordSecurityEvent(refused("otp_sk_22222222"));
    await expect.poll(async () => (await trail.list({}, { size: 10 })).entries.length).toBe(2);
    const [entry] = (await trail.list({ actorId: "otp_sk_11111111" }, { size: 10 })).entries;
    expect(entry).toMatchObject({ outcome: "refused", sourceAddress: "unknown", details: {} });
    await new Promise((r) => setTimeout(r, 250));
    audit.recordSecurityEvent(refused("otp_sk_11111111"));
    await expect.poll(async () => (await trail.list({}, { size: 10 })).entries.length).toBe(3);
  });

  it("shares the window between processes through the trail", async () => {
    const trail = trailOf();
    const one = createAuditRecorder({ trail });
    const two = createAuditRecorder({ trail });
    one.recordSecurityEvent(refused("otp_sk_33333333"));
    two.recordSecurityEvent(refused("otp_sk_33333333"));
    await new Promise((r) => setTimeout(r, 50));
    expect((await trail.list({}, { size: 10 })).entries).toHaveLength(1);
  });

  it("reports a failed write without failing the caller", async () => {
    const errors: unknown[] = [];
    const audit = createAuditRecorder({
      trail: {
        append: () => Promise.reject(new Error("down")),
        claimOnce: async () => true,
      },
      onError: (err) => errors.push(err),
    });
    await audit.record({
      ...refused("otp_sk_4"),
      outcome: "success",
      requestId: "",
      sourceAddress: "",
      details: {},
    });
    expect(errors).toHaveLength(1);
  });
});
