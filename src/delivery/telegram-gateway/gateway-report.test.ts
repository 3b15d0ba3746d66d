import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { gatewaySignature, mapGatewayReport, verifyGatewaySignature } from "./gateway-report.js";

const token = "gateway-token-for-tests-0123456789";
const body = '{"request_id":"abc","payload":"5f0c0000-0000-4000-8000-000000000000"}';
const nowMs = 1_780_000_000_000;
const timestamp = String(nowMs / 1000);

// Written from Telegram's documentation, independently of gatewaySignature.
function documented(key: string, ts: string, text: string): string {
  const secret = createHash("sha256").update(key).digest();
  return createHmac("sha256", secret).update(`${ts}\n${text}`).digest("hex");
}

const check = (overrides: Partial<Parameters<typeof verifyGatewaySignature>[0]>) =>
  verifyGatewaySignature({
    token,
    timestamp,
    signature: documented(token, timestamp, body),
    body,
    nowMs,
    maxAgeMs: 300_000,
    ...overrides,
  });

describe("verifyGatewaySignature", () => {
  it("accepts a report signed with the SHA-256 of the token", () => {
    expect(gatewaySignature(token, timestamp, body)).toBe(documented(token, timestamp, body));
    expect(check({})).toBe("valid");
  });

  it("accepts an upper-case hex signature", () => {
    expect(check({ signature: documented(token, timestamp, body).toUpperCase() })).toBe("valid");
  });

  it("refuses a report signed with another token", () => {
    expect(check({ signature: documented("another-token-0123456789", timestamp, body) })).toBe(
      "invalid",
    );
  });

  it("refuses a report signed with the token itself rather than its hash", () => {
    const raw = createHmac("sha256", token).update(`${timestamp}\n${body}`).digest("hex");
    expect(check({ signature: raw })).toBe("invalid");
  });

  it("refuses a body changed after signing", () => {
    expect(check({ body: body.replace("abc", "abd") })).toBe("invalid");
  });

  it("refuses a signature of the wrong length or alphabet", () => {
    expect(check({ signature: "abc" })).toBe("invalid");
    expect(check({ signature: "z".repeat(64) })).toBe("invalid");
  });

  it("refuses a stale or future timestamp, even correctly signed", () => {
    for (const ts of [String(nowMs / 1000 - 301), String(nowMs / 1000 + 301)]) {
      expect(check({ timestamp: ts, signature: documented(token, ts, body) })).toBe("stale");
    }
    const recent = String(nowMs / 1000 - 299);
    expect(check({ timestamp: recent, signature: documented(token, recent, body) })).toBe("valid");
  });

  it("refuses a timestamp that is not whole seconds", () => {
    const ts = `${timestamp}.5`;
    expect(check({ timestamp: ts, signature: documented(token, ts, body) })).toBe("invalid");
  });

  it("reports missing headers", () => {
    expect(check({ timestamp: undefined })).toBe("missing");
    expect(check({ signature: "" })).toBe("missing");
  });
});

describe("mapGatewayReport", () => {
  it.each([
    ["sent", "sent", ""],
    ["delivered", "delivered", ""],
    ["read", "delivered", ""],
    ["expired", "failed", "PROVIDER_UNDELIVERED"],
    ["revoked", "deleted", ""],
  ])("maps delivery status %s to %s", (provider, status, reason) => {
    expect(mapGatewayReport({ delivery_status: { status: provider } })).toEqual({ status, reason });
  });

  it("treats a valid code as proof of delivery", () => {
    expect(
      mapGatewayReport({
        delivery_status: { status: "sent" },
        verification_status: { status: "code_valid" },
      }).status,
    ).toBe("delivered");
    expect(mapGatewayReport({ verification_status: { status: "code_valid" } }).status).toBe(
      "delivered",
    );
  });

  it("ignores statuses it does not track", () => {
    expect(mapGatewayReport({ delivery_status: { status: "pending" } }).status).toBeUndefined();
    expect(mapGatewayReport({ verification_status: { status: "code_invalid" } }).status).toBe(
      undefined,
    );
  });
});
