import { describe, expect, it } from "vitest";
import { boundedText } from "./bounded-text.js";

const name = { min: 1, max: 10 };

describe("boundedText", () => {
  it("returns the text trimmed when it fits", () => {
    expect(boundedText("  Acme  ", name)).toBe("Acme");
    expect(boundedText("Café Noël", name)).toBe("Café Noël");
  });

  it("counts characters, not UTF-16 units", () => {
    expect(boundedText("🚀".repeat(10), name)).toBe("🚀".repeat(10));
    expect(boundedText("🚀".repeat(11), name)).toBeUndefined();
  });

  it("refuses text too short or too long", () => {
    expect(boundedText("   ", name)).toBeUndefined();
    expect(boundedText("x".repeat(11), name)).toBeUndefined();
    expect(boundedText("x".repeat(1_000_000), name)).toBeUndefined();
    expect(boundedText("", { min: 0, max: 10 })).toBe("");
  });

  it("refuses control characters, separators and bidirectional overrides", () => {
    for (const bad of [
      "a\0b",
      "a\rb",
      "a\nb",
      "a\tb",
      "a\u007fb",
      "a\u0085b",
      "a\u2028b",
      "a\u202eb",
      "a\u2066b",
      "a\ud800b",
    ]) {
      expect(boundedText(bad, name), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it("refuses the extra characters a field forbids", () => {
    expect(boundedText("a:b", { ...name, forbid: /:/ })).toBeUndefined();
    expect(boundedText("a:b", name)).toBe("a:b");
  });
});
