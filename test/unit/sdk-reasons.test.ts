import { describe, expect, it } from "vitest";
import { otpErrorReasons } from "../../sdk/src/reasons.js";
import { reasonCodes } from "../../src/core/reasons.js";

// The SDK is published on its own and cannot import the service's reason
// table, so it keeps a list of its own. This check spans both packages, so it
// lives with the repository's tests rather than the SDK's.
describe("the SDK's otpErrorReasons", () => {
  it("lists exactly the reasons in the service's table (src/core/reasons.ts)", () => {
    expect([...otpErrorReasons].sort()).toEqual(Object.keys(reasonCodes).sort());
  });
});
