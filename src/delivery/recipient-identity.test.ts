import { describe, expect, it } from "vitest";
import { parsePlusTagDomains } from "../config/index.js";
import { recipientIdentity } from "./recipient-identity.js";

describe("recipientIdentity", () => {
  it("gives every spelling of one mailbox one identity", () => {
    const spellings = [
      "victim@example.com",
      "victim+1@example.com",
      "victim+2@example.com",
      "victim@EXAMPLE.com.",
      "Victim@Example.COM",
      " victim+x@example.com.. ",
    ];
    expect(new Set(spellings.map((s) => recipientIdentity(s))).size).toBe(1);
    expect(recipientIdentity("victim+2@EXAMPLE.com.")).toBe("victim@example.com");
  });

  it("folds Gmail's dots and googlemail.com into one mailbox", () => {
    expect(recipientIdentity("Vic.Tim+otp@googlemail.com")).toBe("victim@gmail.com");
    expect(recipientIdentity("v.i.c.t.i.m@gmail.com")).toBe("victim@gmail.com");
  });

  it("keeps dots outside Gmail, where they name other mailboxes", () => {
    expect(recipientIdentity("a.b@example.com")).toBe("a.b@example.com");
  });

  it("strips +tags only for the listed domains when given a list, and always for Gmail", () => {
    const plusTagDomains = parsePlusTagDomains("fastmail.com");
    expect(recipientIdentity("a+1@fastmail.com", { plusTagDomains })).toBe("a@fastmail.com");
    expect(recipientIdentity("a+1@gmail.com", { plusTagDomains })).toBe("a@gmail.com");
    expect(recipientIdentity("a+1@example.com", { plusTagDomains })).toBe("a+1@example.com");
    const off = parsePlusTagDomains("off");
    expect(recipientIdentity("a+1@example.com", { plusTagDomains: off })).toBe("a+1@example.com");
    expect(recipientIdentity("a+1@googlemail.com", { plusTagDomains: off })).toBe("a@gmail.com");
  });

  it("leaves an address that is all tag as it is", () => {
    expect(recipientIdentity("+tag@example.com")).toBe("+tag@example.com");
  });

  it("reads an internationalised domain and its punycode as one", () => {
    expect(recipientIdentity("a@bücher.example")).toBe(
      recipientIdentity("a@xn--bcher-kva.example"),
    );
  });

  it("turns every spelling of a phone number into E.164", () => {
    for (const spelling of ["+14155552671", "+1 (415) 555-2671", "+1-415-555-2671 "]) {
      expect(recipientIdentity(spelling)).toBe("+14155552671");
    }
  });

  it("lower-cases Telegram usernames and keeps chat ids", () => {
    expect(recipientIdentity("@Some_Channel")).toBe("@some_channel");
    expect(recipientIdentity("-1001234567890")).toBe("-1001234567890");
  });
});
