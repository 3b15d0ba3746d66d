import { describe, expect, it } from "vitest";
import { bindingHash } from "./binding-hash.js";

describe("bindingHash", () => {
  it("ignores key order at every depth", () => {
    expect(bindingHash({ a: 1, b: { x: true, y: [1, "z"] } })).toBe(
      bindingHash({ b: { y: [1, "z"], x: true }, a: 1 }),
    );
  });

  it("tells different content apart, including array order and value types", () => {
    expect(bindingHash({ a: 1 })).not.toBe(bindingHash({ a: 2 }));
    expect(bindingHash({ a: [1, 2] })).not.toBe(bindingHash({ a: [2, 1] }));
    expect(bindingHash({ a: "1" })).not.toBe(bindingHash({ a: 1 }));
  });

  it("treats no binding and an empty binding alike", () => {
    expect(bindingHash(undefined)).toBe("");
    expect(bindingHash({})).toBe("");
  });
});
