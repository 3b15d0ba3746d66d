import { describe, expect, it } from "vitest";
import { parseCountryList } from "./delivery.js";

describe("parseCountryList", () => {
  it("reads upper- or lower-case codes", () => {
    expect(parseCountryList("us, gb ,DE")).toEqual(new Set(["US", "GB", "DE"]));
  });

  it("reads * as every country", () => {
    expect(parseCountryList("*")).toBe("all");
  });

  it("rejects a code that is not two letters", () => {
    expect(() => parseCountryList("USA")).toThrow(/USA/);
  });
});
