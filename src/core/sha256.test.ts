import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256 } from "./sha256.js";

describe("sha256", () => {
  it("gives the digest of the string's UTF-8 bytes, as createHash does", () => {
    for (const text of ["", "abc", "otp_sk_4f9c2a1b_x", "ünïcødé ✓"]) {
      for (const encoding of ["hex", "base64url"] as const) {
        expect(sha256(text, encoding)).toBe(createHash("sha256").update(text).digest(encoding));
      }
    }
    expect(sha256("abc", "hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});
