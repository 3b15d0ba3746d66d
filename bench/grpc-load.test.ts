import { describe, expect, it } from "vitest";
import { h2loadShape } from "./grpc-load.js";

describe("h2loadShape", () => {
  it("runs a full-speed window for its duration", () => {
    expect(h2loadShape(4, 50)).toEqual(["-D", "4"]);
  });

  it("paces a window by calls per connection, the connections opened 1 ms apart, for rate × seconds calls", () => {
    expect(h2loadShape(3, 50, 900)).toEqual([
      ...["-r", "1", "--rate-period", "1ms", "--rps", "18"],
      ...["-n", "2700"],
    ]);
  });

  it("never asks for less than one call a second per connection", () => {
    expect(h2loadShape(2, 50, 10)).toEqual([
      ...["-r", "1", "--rate-period", "1ms", "--rps", "1"],
      ...["-n", "100"],
    ]);
  });
});
