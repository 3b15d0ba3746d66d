import { describe, expect, it } from "vitest";
import { appHashPattern, withAutofill } from "./sms-autofill.js";

describe("withAutofill", () => {
  it("leaves the text alone without settings", () => {
    expect(withAutofill("Your code is 493027.", "493027", {})).toBe("Your code is 493027.");
  });

  it("ends with the origin-bound line, the app hash before it", () => {
    const text = withAutofill("Your code is 493027.", "493027", {
      appHash: "FA+9qCX9VSu",
      domain: "login.example.com",
    });
    expect(text.split("\n")).toEqual([
      "Your code is 493027.",
      "",
      "FA+9qCX9VSu",
      "@login.example.com #493027",
    ]);
  });

  it("knows an app hash when it sees one", () => {
    expect(appHashPattern.test("FA+9qCX9VSu")).toBe(true);
    expect(appHashPattern.test("too-short")).toBe(false);
  });
});
