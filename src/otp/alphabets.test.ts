import { describe, expect, it } from "vitest";
import { generateCode, normalizeCode, wordCount } from "./alphabets.js";

describe("alphabets", () => {
  it("draws numeric codes of the asked length from digits only", () => {
    for (let i = 0; i < 200; i++) expect(generateCode("numeric", 8)).toMatch(/^\d{8}$/);
  });

  it("draws alphanumeric codes without look-alike characters", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const code = generateCode("alphanumeric", 10);
      expect(code).toMatch(/^[2-9A-HJKMNP-Z]{10}$/);
      for (const c of code) seen.add(c);
    }
    for (const c of "01OIL") expect(seen.has(c)).toBe(false);
  });

  it("draws words from a list of at least 1,024 words", () => {
    expect(wordCount).toBeGreaterThanOrEqual(1024);
    const code = generateCode("words", 5);
    expect(code.split("-")).toHaveLength(5);
    expect(code).toMatch(/^[a-z]+(-[a-z]+){4}$/);
  });

  it("spreads digits evenly", () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 2000; i++)
      for (const d of generateCode("numeric", 10)) counts[Number(d)] = (counts[Number(d)] ?? 0) + 1;
    // 20,000 digits: each near 2,000; a biased generator would be far off.
    for (const c of counts) expect(c).toBeGreaterThan(1700);
  });

  it("accepts what a person types with spaces, hyphens and another letter case", () => {
    expect(normalizeCode("numeric", " 123 456 ")).toBe("123456");
    expect(normalizeCode("numeric", "123-456")).toBe("123456");
    expect(normalizeCode("alphanumeric", "k7qx 3m")).toBe("K7QX3M");
    expect(normalizeCode("words", "Orbit Pepper  canal-TIGER")).toBe("orbit-pepper-canal-tiger");
  });
});
