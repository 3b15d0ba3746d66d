import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey, parseApiKey } from "./api-key.js";

describe("API keys", () => {
  it("look different for secret and publishable keys and carry their id", () => {
    const secret = generateApiKey("secret");
    const publishable = generateApiKey("publishable");
    expect(secret.secret).toMatch(/^otp_sk_[0-9a-f]{8}_[A-Za-z0-9_-]{40}$/);
    expect(publishable.secret).toMatch(/^otp_pk_/);
    expect(parseApiKey(secret.secret)).toEqual({ kind: "secret", id: secret.id });
    expect(parseApiKey(publishable.secret)?.kind).toBe("publishable");
  });

  it("are stored only as a hash that does not contain the key", () => {
    const key = generateApiKey("secret");
    expect(key.hash).toBe(hashApiKey(key.secret));
    expect(key.hash).not.toContain(key.secret.slice(16));
  });

  it("never repeat", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generateApiKey("secret").secret));
    expect(seen.size).toBe(1000);
  });

  it("refuses anything that is not a well-formed key", () => {
    for (const bad of [
      "",
      "otp_sk_",
      "Bearer x",
      `otp_xx_12345678_${"a".repeat(40)}`,
      `otp_sk_1234567_${"a".repeat(40)}`,
    ]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });
});
