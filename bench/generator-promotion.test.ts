import { describe, expect, it } from "vitest";
import { promotedPerCall, variants } from "./generator-promotion.js";

describe("promotedPerCall", () => {
  it("adds what the scavenges promoted, leaves out full collections, and divides by the calls", () => {
    const log = [
      "[1:0x1]  100 ms: pause=1.2 mutator=3 gc=s reduce_memory=0 promoted=3000 new_space_survived=10",
      "[1:0x1]  200 ms: pause=5.0 mutator=9 gc=mc reduce_memory=0 promoted=99999",
      "[1:0x1]  300 ms: pause=1.1 mutator=4 gc=s reduce_memory=0 promoted=1000 new_space_survived=5",
      "calls=4",
    ].join("\n");
    expect(promotedPerCall(log, 4)).toBe(1000);
    expect(promotedPerCall(log, 0)).toBeNaN();
  });
});

describe("the variants", () => {
  it("each drain one message", async () => {
    for (const { drain } of Object.values(variants)) {
      const seen: unknown[] = [];
      for await (const item of drain()) seen.push(item);
      expect(seen).toHaveLength(1);
    }
  });
});
