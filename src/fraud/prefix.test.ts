import { describe, expect, it } from "vitest";
import { destinationPrefix } from "./prefix.js";

describe("destinationPrefix", () => {
  it("joins the calling code and the first national digits, for several countries", () => {
    expect(destinationPrefix("+447400123456", 3)).toEqual({ prefix: "+44 740", country: "GB" });
    expect(destinationPrefix("+14155552671", 3)).toEqual({ prefix: "+1 415", country: "US" });
    expect(destinationPrefix("+4915123456789", 3)).toEqual({ prefix: "+49 151", country: "DE" });
    expect(destinationPrefix("+33612345678", 2)).toEqual({ prefix: "+33 61", country: "FR" });
    expect(destinationPrefix("+34612345678", 3)).toEqual({ prefix: "+34 612", country: "ES" });
    expect(destinationPrefix("+353851234567", 3)).toEqual({ prefix: "+353 851", country: "IE" });
    expect(destinationPrefix("+2348031234567", 4)).toEqual({ prefix: "+234 8031", country: "NG" });
  });

  it("judges whole calling codes with 0 digits", () => {
    expect(destinationPrefix("+447911123456", 0)?.prefix).toBe("+44");
  });

  it("keeps at least four digits of a number out of its prefix", () => {
    // A 7-digit national number (Iceland): 6 digits asked, 3 given.
    expect(destinationPrefix("+3546111234", 6)?.prefix).toBe("+354 611");
  });

  it("tells apart two prefixes of one country", () => {
    expect(destinationPrefix("+447911123456", 3)?.prefix).not.toBe(
      destinationPrefix("+447400123456", 3)?.prefix,
    );
  });

  it("has no prefix for recipients that are not phone numbers", () => {
    expect(destinationPrefix("ada@example.com", 3)).toBeUndefined();
    expect(destinationPrefix("7001", 3)).toBeUndefined();
    expect(destinationPrefix("account:abc", 3)).toBeUndefined();
    expect(destinationPrefix("+12", 3)).toBeUndefined();
  });
});
