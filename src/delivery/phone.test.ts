import { describe, expect, it } from "vitest";
import { normalizePhone, phoneFromTelegramContact } from "./phone.js";

const us = { allowedCountries: new Set(["US", "ES"]) };

describe("normalizePhone", () => {
  it("returns E.164 for a formatted international number", () => {
    expect(normalizePhone(" +1 (415) 555-2671 ", us)).toEqual({
      ok: true,
      e164: "+14155552671",
      country: "US",
    });
  });

  it("refuses a number without a country code", () => {
    expect(normalizePhone("4155552671", us)).toEqual({ ok: false, reason: "RECIPIENT_INVALID" });
  });

  it("refuses an invalid number", () => {
    expect(normalizePhone("+1415555", us)).toEqual({ ok: false, reason: "RECIPIENT_INVALID" });
  });

  it("refuses a country outside the allow-list", () => {
    expect(normalizePhone("+4915112345678", us)).toEqual({
      ok: false,
      reason: "COUNTRY_NOT_ALLOWED",
    });
  });

  it("accepts any valid country with the allow-list 'all'", () => {
    expect(normalizePhone("+4915112345678", { allowedCountries: "all" })).toMatchObject({
      ok: true,
      country: "DE",
    });
  });

  it("refuses premium-rate and toll-free numbers even in an allowed country", () => {
    expect(normalizePhone("+19005551234", us)).toEqual({
      ok: false,
      reason: "NUMBER_TYPE_NOT_ALLOWED",
    });
    expect(normalizePhone("+18005551234", us)).toEqual({
      ok: false,
      reason: "NUMBER_TYPE_NOT_ALLOWED",
    });
  });

  it("accepts a mobile number", () => {
    expect(normalizePhone("+34612345678", us)).toMatchObject({ ok: true, e164: "+34612345678" });
  });
});

describe("phoneFromTelegramContact", () => {
  it("adds the plus Telegram sometimes leaves out", () => {
    expect(phoneFromTelegramContact("79161234567")).toBe("+79161234567");
    expect(phoneFromTelegramContact("+34612345678")).toBe("+34612345678");
  });

  it("returns undefined for an invalid number", () => {
    expect(phoneFromTelegramContact("12")).toBeUndefined();
  });
});
