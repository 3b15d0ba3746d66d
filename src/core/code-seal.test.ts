import { describe, expect, it } from "vitest";
import { createCodeSeal } from "./code-seal.js";

describe("createCodeSeal", () => {
  it("opens what it sealed for the same challenge, and holds no code in the clear", () => {
    const seal = createCodeSeal(["s".repeat(32)]);
    const sealed = seal.seal("id-1", "493027");
    expect(sealed).not.toContain("493027");
    expect(seal.open("id-1", sealed)).toBe("493027");
  });

  it("opens nothing bound to another challenge or sealed under an unknown secret", () => {
    const seal = createCodeSeal(["s".repeat(32)]);
    const sealed = seal.seal("id-1", "493027");
    expect(seal.open("id-2", sealed)).toBeUndefined();
    expect(createCodeSeal(["t".repeat(32)]).open("id-1", sealed)).toBeUndefined();
  });

  it("opens codes sealed under a previous secret after a rotation", () => {
    const old = createCodeSeal(["old".repeat(11)]);
    const sealed = old.seal("id-1", "123456");
    expect(createCodeSeal(["new".repeat(11), "old".repeat(11)]).open("id-1", sealed)).toBe(
      "123456",
    );
  });
});
