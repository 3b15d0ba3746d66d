import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCodeHasher, hmacEquals } from "./code-hasher.js";

const a = "a".repeat(32);
const b = "b".repeat(32);

describe("code hasher", () => {
  it("never stores the code itself", () => {
    const hash = createCodeHasher([a]).hash("id-1", "123456");
    expect(hash).not.toContain("123456");
  });

  it("binds the HMAC to the challenge id", () => {
    const hasher = createCodeHasher([a]);
    expect(hasher.hash("id-1", "123456")).not.toBe(hasher.hash("id-2", "123456"));
  });

  it("keeps the HMAC that challenges already stored were written with", () => {
    const stored = createHmac("sha256", a)
      .update(["otp-code", "id", "123456"].join("\0"))
      .digest("base64url");
    expect(createCodeHasher([a]).hash("id", "123456")).toBe(stored);
    expect(createCodeHasher([b, a]).candidates("id", "123456")[1]).toBe(stored);
  });

  it("still matches a code hashed under the previous secret after a rotation", () => {
    const before = createCodeHasher([a]).hash("id", "123456");
    const after = createCodeHasher([b, a]);
    expect(after.hash("id", "123456")).not.toBe(before);
    expect(after.candidates("id", "123456").some((c) => hmacEquals(c, before))).toBe(true);
  });
});

describe("ids for idempotency keys", () => {
  it("are UUID v4 in form, the same for the same key, and differ by key and secret", () => {
    const hasher = createCodeHasher([a]);
    const id = hasher.idForIdempotencyKey("order-42");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(hasher.idForIdempotencyKey("order-42")).toBe(id);
    expect(hasher.idForIdempotencyKey("order-43")).not.toBe(id);
    expect(createCodeHasher([b]).idForIdempotencyKey("order-42")).not.toBe(id);
  });

  it("name a Send delivery apart from a Generate challenge made with the same key", () => {
    const hasher = createCodeHasher([a]);
    const id = hasher.deliveryIdForIdempotencyKey("order-42");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(hasher.deliveryIdForIdempotencyKey("order-42")).toBe(id);
    expect(hasher.idForIdempotencyKey("order-42")).not.toBe(id);
  });
});

describe("digests", () => {
  it("differ by purpose and secret, and list every secret's digest for lookups", () => {
    const hasher = createCodeHasher([b, a]);
    const digest = hasher.digest("telegram-phone", "+34612345678");
    expect(digest).not.toContain("34612345678");
    expect(hasher.digest("send-request", "+34612345678")).not.toBe(digest);
    expect(hasher.digests("telegram-phone", "+34612345678")).toEqual([
      digest,
      createCodeHasher([a]).digest("telegram-phone", "+34612345678"),
    ]);
  });
});
