import { describe, expect, it } from "vitest";
import { describeTelegramLinksContract } from "../../../test/contract/telegram-links-contract.js";
import { createFakeClock } from "../../../test/support/fake-clock.js";
import { createMemoryTelegramLinks } from "./telegram-links.js";

describeTelegramLinksContract("memory", async () => createMemoryTelegramLinks());

describe("memory TelegramLinks expiry", () => {
  it("forgets links and tokens once they expire", async () => {
    const clock = createFakeClock();
    const links = createMemoryTelegramLinks({ linkTtlMs: 1000, now: clock.now });
    await links.link("+34612345678", "111");
    const token = await links.createLinkToken("acct", 100);
    clock.advance(100);
    expect(await links.redeemLinkToken(token)).toBeUndefined();
    clock.advance(900);
    expect(await links.chatFor("+34612345678")).toBeUndefined();
  });
});
