import { describe, expect, it } from "vitest";
import { createMetrics, createNoopMetrics } from "./metrics.js";

// The value of one series in Prometheus text, or undefined when absent.
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split("\n")) {
    if (!line.startsWith(`${name}{`)) {
      continue;
    }
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (matches) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return undefined;
}

describe("createMetrics", () => {
  it("counts events under the Prometheus names", async () => {
    const metrics = createMetrics();
    metrics.challengeGenerated("numeric");
    metrics.challengeGenerated("numeric");
    metrics.verification("verified");
    metrics.verification("invalid_code");
    metrics.delivery("telegram", "sent");
    metrics.rateLimited("generate_per_ip");
    metrics.storeError("verify");

    const { contentType, body } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(body, "otp_challenges_generated_total", { alphabet: "numeric" })).toBe(2);
    expect(sample(body, "otp_verifications_total", { result: "verified" })).toBe(1);
    expect(sample(body, "otp_verifications_total", { result: "invalid_code" })).toBe(1);
    expect(sample(body, "otp_deliveries_total", { channel: "telegram", outcome: "sent" })).toBe(1);
    expect(sample(body, "otp_rate_limited_total", { limit: "generate_per_ip" })).toBe(1);
    expect(sample(body, "otp_store_errors_total", { operation: "verify" })).toBe(1);
    expect(body).toContain("# TYPE otp_verifications_total counter");
  });

  it("records RPC latency as a histogram in seconds", async () => {
    const metrics = createMetrics();
    metrics.rpcCompleted("otp.v1.OtpService/Verify", "ok", 0.003);
    metrics.rpcCompleted("otp.v1.OtpService/Verify", "ok", 0.2);
    const { body } = await metrics.render();
    const labels = { method: "otp.v1.OtpService/Verify", code: "ok" };
    expect(body).toContain("# TYPE otp_rpc_duration_seconds histogram");
    expect(sample(body, "otp_rpc_duration_seconds_count", labels)).toBe(2);
    expect(sample(body, "otp_rpc_duration_seconds_sum", labels)).toBeCloseTo(0.203);
    expect(sample(body, "otp_rpc_duration_seconds_bucket", { ...labels, le: "0.005" })).toBe(1);
    expect(sample(body, "otp_rpc_duration_seconds_bucket", { ...labels, le: "+Inf" })).toBe(2);
  });

  it("never turns a recipient or a code into a label value", async () => {
    const metrics = createMetrics();
    metrics.delivery("+15551234567", "sent");
    metrics.delivery("alice@example.com", "sent");
    metrics.verification("123456");
    const { body } = await metrics.render();
    expect(body).not.toContain("15551234567");
    expect(body).not.toContain("alice");
    expect(body).not.toContain("123456");
    expect(sample(body, "otp_deliveries_total", { channel: "other", outcome: "sent" })).toBe(2);
  });

  it("keeps separate instances apart", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.verification("verified");
    const { body } = await b.render();
    expect(sample(body, "otp_verifications_total", { result: "verified" })).toBeUndefined();
  });
});

describe("createNoopMetrics", () => {
  it("accepts every call and renders nothing", async () => {
    const metrics = createNoopMetrics();
    metrics.challengeGenerated("numeric");
    metrics.rpcCompleted("m", "ok", 1);
    expect((await metrics.render()).body).toBe("");
  });
});
