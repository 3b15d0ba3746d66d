import { describe, expect, it } from "vitest";
import { maskRecipient } from "./mask.js";

describe("maskRecipient", () => {
  it("keeps the country prefix and last four digits of a phone number", () => {
    expect(maskRecipient("+14155554567")).toBe("+1******4567");
  });

  it("keeps the first letter and the domain of an email address", () => {
    expect(maskRecipient("alice@example.com")).toBe("a***@example.com");
  });

  it("hides the middle of anything else", () => {
    expect(maskRecipient("@some_user")).toBe("@********r");
    expect(maskRecipient("ab")).toBe("**");
  });
});
