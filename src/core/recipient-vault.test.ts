import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createRecipientVault, isSealed } from "./recipient-vault.js";

const current = "c".repeat(40);
const previous = "p".repeat(40);

describe("createRecipientVault", () => {
  it("hashes a recipient without showing it, the same way each time", () => {
    const vault = createRecipientVault([current]);
    const hash = vault.index("limit-recipient", "+14155552671");
    expect(hash).toBe(vault.index("limit-recipient", "+14155552671"));
    expect(hash).not.toContain("4155552671");
    expect(hash).not.toBe(vault.index("outbox-recipient", "+14155552671"));
  });

  it("keeps the recipient hash apart from the code HMAC under the same secret", () => {
    const vault = createRecipientVault([current]);
    const codeStyle = createHmac("sha256", current)
      .update("otp-limit-recipient\0+14155552671")
      .digest("base64url");
    expect(vault.index("limit-recipient", "+14155552671")).not.toBe(codeStyle);
  });

  it("finds an index made before a rotation among the indexes after it", () => {
    const before = createRecipientVault([previous]);
    const after = createRecipientVault([current, previous]);
    const old = before.index("telegram-phone", "+14155552671");
    expect(after.indexes("telegram-phone", "+14155552671")).toEqual([
      after.index("telegram-phone", "+14155552671"),
      old,
    ]);
  });

  it("seals with the current secret and opens with any", () => {
    const before = createRecipientVault([previous]);
    const after = createRecipientVault([current, previous]);
    const sealed = before.seal("victim@example.com", "ctx");
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain("victim");
    expect(after.open(sealed, "ctx")).toBe("victim@example.com");
    expect(() => createRecipientVault([current]).open(sealed, "ctx")).toThrow();
  });

  it("refuses a sealed value moved to another context", () => {
    const vault = createRecipientVault([current]);
    expect(() => vault.open(vault.seal("123456789", "a"), "b")).toThrow();
  });
});
