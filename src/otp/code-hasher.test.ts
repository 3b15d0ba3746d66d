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

  it("still matches a code hashed under the previous secret after a rotation", () => {
    const before = createCodeHasher([a]).hash("id", "123456");
    const after = createCodeHasher([b, a]);
    expect(after.hash("id", "123456")).not.toBe(before);
    expect(after.candidates("id", "123456").some((c) => hmacEquals(c, before))).toBe(true);
  });
});
