import { describe, expect, it } from "vitest";
import { checkRecipient, openRecipientPolicy, type RecipientPolicy } from "./recipients.js";

const usOnly: RecipientPolicy = {
  sms: { allowedCountries: new Set(["US"]) },
  whatsapp: { allowedCountries: "all" },
};

describe("checkRecipient", () => {
  it("normalises phone numbers to E.164", () => {
    expect(checkRecipient("sms", "+1 (415) 555-2671", usOnly)).toEqual({
      ok: true,
      recipient: "+14155552671",
    });
    expect(checkRecipient("telegram", "+34 612 34 56 78", usOnly)).toEqual({
      ok: true,
      recipient: "+34612345678",
    });
  });

  it("applies the channel's country allow-list and blocked number types", () => {
    expect(checkRecipient("sms", "+34612345678", usOnly)).toEqual({
      ok: false,
      reason: "COUNTRY_NOT_ALLOWED",
    });
    expect(checkRecipient("whatsapp", "+34612345678", usOnly).ok).toBe(true);
    expect(checkRecipient("sms", "+19005550123", usOnly)).toEqual({
      ok: false,
      reason: "NUMBER_TYPE_NOT_ALLOWED",
    });
  });

  it("takes Telegram chat ids, public usernames, linked phones and linked accounts", () => {
    for (const recipient of ["123456789", "-1001234567890", "@acme_news", "account:user-42"]) {
      expect(checkRecipient("telegram", recipient, openRecipientPolicy)).toEqual({
        ok: true,
        recipient,
      });
    }
    for (const recipient of ["@ab", "account:", "account:has space", "+1415555", "alice"]) {
      expect(checkRecipient("telegram", recipient, openRecipientPolicy).ok).toBe(false);
    }
  });

  it("checks email addresses and outbox names", () => {
    expect(checkRecipient("email", "ada@example.com", openRecipientPolicy).ok).toBe(true);
    expect(checkRecipient("email", "ada@example", openRecipientPolicy).ok).toBe(false);
    expect(checkRecipient("outbox", "line\nbreak", openRecipientPolicy).ok).toBe(false);
  });
});
