import { describe, expect, it } from "vitest";
import { clusterSlotOf } from "./cluster-slot.js";

describe("clusterSlotOf", () => {
  it("matches the slots Redis documents", () => {
    expect(clusterSlotOf("foo")).toBe(12182);
    expect(clusterSlotOf("bar")).toBe(5061);
    expect(clusterSlotOf("123456789")).toBe(0x31c3);
  });

  it("hashes only the hash tag when there is one", () => {
    expect(clusterSlotOf("otp:challenge:{foo}")).toBe(12182);
    expect(clusterSlotOf("x{foo}y{bar}")).toBe(12182);
    // An empty tag is no tag: the whole key is hashed.
    expect(clusterSlotOf("{}foo")).not.toBe(clusterSlotOf("foo"));
  });
});
