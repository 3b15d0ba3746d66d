import { describe, expect, it } from "vitest";
import { createMemoryTelegramLinks } from "../../store/memory/telegram-links.js";
import { tenantAccountId } from "./telegram-links.js";

describe("Telegram account links per tenant", () => {
  it("reach a chat only for the tenant that made the deep link", async () => {
    const links = createMemoryTelegramLinks({ linkTtlMs: 60_000 });
    const token = await links.createLinkToken(tenantAccountId("ten_a", "user-1"), 60_000);
    // The bot redeems the token outside any call, and links what it carried.
    const account = await links.redeemLinkToken(token);
    await links.linkAccount(account ?? "", "4242");
    expect(await links.chatForAccount(tenantAccountId("ten_a", "user-1"))).toBe("4242");
    expect(await links.chatForAccount(tenantAccountId("ten_b", "user-1"))).toBeUndefined();
    expect(await links.chatForAccount("user-1")).toBeUndefined();
  });
});
