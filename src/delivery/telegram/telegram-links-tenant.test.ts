import { describe, expect, it } from "vitest";
import { runAsTenant } from "../../core/tenant-scope.js";
import { createMemoryTelegramLinks } from "../../store/memory/telegram-links.js";
import { scopeAccountsToTenant } from "./telegram-links.js";

describe("Telegram account links per tenant", () => {
  it("reach a chat only for the tenant that made the deep link", async () => {
    const links = scopeAccountsToTenant(createMemoryTelegramLinks({ linkTtlMs: 60_000 }));
    const token = await runAsTenant("ten_a", () => links.createLinkToken("user-1", 60_000));
    // The bot redeems the token outside any call, and links what it carried.
    const account = await links.redeemLinkToken(token);
    await links.linkAccount(account ?? "", "4242");
    expect(await runAsTenant("ten_a", () => links.chatForAccount("user-1"))).toBe("4242");
    expect(await runAsTenant("ten_b", () => links.chatForAccount("user-1"))).toBeUndefined();
  });
});
