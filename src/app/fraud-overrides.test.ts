import { describe, expect, it } from "vitest";
import { createMemoryAdminStore } from "../tenancy/admin-store.js";
import { createLocalChangeFeed } from "../tenancy/change-feed.js";
import { emptySettings } from "../tenancy/tenant-settings.js";
import { createFraudOverrides, fraudOverridesOf } from "./fraud-overrides.js";

describe("a tenant's fraud guard settings", () => {
  it("override only what the tenant set", () => {
    expect(fraudOverridesOf(emptySettings())).toBeUndefined();
    const settings = emptySettings();
    settings.fraudGuard = { ...settings.fraudGuard, mode: "report", minVerifyPercent: 35 };
    expect(fraudOverridesOf(settings)).toEqual({ mode: "report", minVerifyRate: 0.35 });
  });

  it("are read once, then again when the change feed says the tenant changed", async () => {
    const admin = createMemoryAdminStore();
    const feed = createLocalChangeFeed();
    await admin.createTenant({ id: "ten_a", name: "A", createdAtMs: 1 });
    const overridesFor = createFraudOverrides({ admin, feed, onError: () => {} });
    // The first ask starts the read; until it lands the service's thresholds apply.
    expect(overridesFor("ten_a")).toBeUndefined();
    await new Promise((r) => setTimeout(r, 10));
    expect(overridesFor("ten_a")).toBeUndefined();
    const settings = emptySettings();
    settings.fraudGuard = { ...settings.fraudGuard, mode: "off" };
    await admin.updateTenant("ten_a", { settings });
    await feed.publish("tenant:ten_a");
    await new Promise((r) => setTimeout(r, 10));
    expect(overridesFor("ten_a")).toEqual({ mode: "off" });
  });
});
