import { describe, expect, it } from "vitest";
import type { TelegramLinks } from "../../src/delivery/telegram/telegram-links.js";

/** The behaviour every {@link TelegramLinks} shares; `make` gives a fresh, empty one. */
export function describeTelegramLinksContract(
  name: string,
  make: () => Promise<TelegramLinks>,
): void {
  describe(`TelegramLinks contract: ${name}`, () => {
    it("maps a phone number to the chat that linked it last", async () => {
      const links = await make();
      expect(await links.chatFor("+34612345678")).toBeUndefined();
      await links.link("+34612345678", "111");
      expect(await links.chatFor("+34612345678")).toBe("111");
      await links.link("+34612345678", "222");
      expect(await links.chatFor("+34612345678")).toBe("222");
    });

    it("redeems a link token once, for the account it was made for", async () => {
      const links = await make();
      const token = await links.createLinkToken("acct_42", 60_000);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const results = await Promise.all([
        links.redeemLinkToken(token),
        links.redeemLinkToken(token),
      ]);
      expect(results.sort()).toEqual(["acct_42", undefined]);
      expect(await links.redeemLinkToken(token)).toBeUndefined();
    });

    it("does not redeem an unknown token", async () => {
      const links = await make();
      expect(await links.redeemLinkToken("A".repeat(43))).toBeUndefined();
    });

    it("maps an account id to a chat", async () => {
      const links = await make();
      await links.linkAccount("acct_42", "333");
      expect(await links.chatForAccount("acct_42")).toBe("333");
      expect(await links.chatForAccount("acct_43")).toBeUndefined();
    });
  });
}
