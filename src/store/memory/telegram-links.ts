import {
  defaultLinkTtlMs,
  linkTokenDigest,
  newLinkToken,
  type TelegramLinks,
} from "../../delivery/telegram/telegram-links.js";

/** Options for {@link createMemoryTelegramLinks}. */
export interface MemoryTelegramLinksOptions {
  /** How long a phone or account link lives after it was last made, in milliseconds. */
  linkTtlMs?: number;
  now?: () => number;
}

/** The in-process {@link TelegramLinks}, for the embedded default store. */
export function createMemoryTelegramLinks(options: MemoryTelegramLinksOptions = {}): TelegramLinks {
  const now = options.now ?? Date.now;
  const ttlMs = options.linkTtlMs ?? defaultLinkTtlMs;
  const phones = new Map<string, { chatId: string; untilMs: number }>();
  const accounts = new Map<string, { chatId: string; untilMs: number }>();
  const tokens = new Map<string, { accountId: string; untilMs: number }>();
  const live = <T extends { untilMs: number }>(map: Map<string, T>, key: string) => {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (now() >= entry.untilMs) {
      map.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    async link(phone, chatId) {
      phones.set(phone, { chatId, untilMs: now() + ttlMs });
    },
    async chatFor(phone) {
      return live(phones, phone)?.chatId;
    },
    async createLinkToken(accountId, tokenTtlMs) {
      const token = newLinkToken();
      tokens.set(linkTokenDigest(token), { accountId, untilMs: now() + tokenTtlMs });
      return token;
    },
    async redeemLinkToken(token) {
      const key = linkTokenDigest(token);
      const entry = live(tokens, key);
      tokens.delete(key);
      return entry?.accountId;
    },
    async linkAccount(accountId, chatId) {
      accounts.set(accountId, { chatId, untilMs: now() + ttlMs });
    },
    async chatForAccount(accountId) {
      return live(accounts, accountId)?.chatId;
    },
  };
}
