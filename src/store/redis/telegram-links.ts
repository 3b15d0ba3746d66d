import {
  defaultLinkTtlMs,
  linkTokenDigest,
  newLinkToken,
  type TelegramLinks,
} from "../../delivery/telegram/telegram-links.js";
import type { RedisTopology } from "./topology.js";

/** Options for {@link createRedisTelegramLinks}. */
export interface RedisTelegramLinksOptions {
  topology: RedisTopology;
  /** Namespaces every key, for example "otp:"; the same prefix as the store. */
  keyPrefix: string;
  /** How long a phone or account link lives after it was last made, in milliseconds. */
  linkTtlMs?: number;
  /**
   * Turns a phone number into the names of its key, current first (for
   * example keyed hashes under the current and previous secrets), so that
   * Redis never holds phone numbers in the clear. Links are written under
   * the first name and looked up under each. The number itself by default.
   */
  phoneKeyNames?: (phone: string) => string[];
  /**
   * Seals a chat id before it is stored, and opens it when read, so that
   * Redis never holds chat ids in the clear either; kept as it is by default.
   * `open` must accept values stored before sealing was turned on.
   */
  chatBox?: { seal(chatId: string): string; open(stored: string): string };
}

/**
 * {@link TelegramLinks} in Redis: one string key per phone (named by
 * `phoneKeyNames`), account and token, chat ids sealed by `chatBox`,
 * each placed by `topology.forKey` on its own key and each written with an
 * expiry. Tokens are stored by their SHA-256 and consumed with GETDEL, so a
 * token links at most one chat even when two updates race.
 */
export function createRedisTelegramLinks(options: RedisTelegramLinksOptions): TelegramLinks {
  const { topology, keyPrefix } = options;
  const ttlMs = options.linkTtlMs ?? defaultLinkTtlMs;
  const phoneKeys = (phone: string) =>
    (options.phoneKeyNames?.(phone) ?? [phone]).map((name) => `${keyPrefix}telegram:phone:${name}`);
  const accountKey = (accountId: string) => `${keyPrefix}telegram:account:${accountId}`;
  const seal = options.chatBox?.seal ?? ((chatId: string) => chatId);
  const open = options.chatBox?.open ?? ((stored: string) => stored);
  const tokenKey = (token: string) => `${keyPrefix}telegram:link-token:${linkTokenDigest(token)}`;

  const call = async <T>(what: () => Promise<T>): Promise<T> => {
    try {
      return await what();
    } catch (err) {
      throw new Error("telegram links: Redis call failed", { cause: err });
    }
  };
  const set = (key: string, value: string, px: number) =>
    call(() => topology.forKey(key).set(key, value, "PX", Math.max(1, Math.round(px))));
  const get = async (key: string) => (await call(() => topology.forKey(key).get(key))) ?? undefined;

  return {
    async link(phone, chatId) {
      await set(phoneKeys(phone)[0] as string, seal(chatId), ttlMs);
    },
    async chatFor(phone) {
      for (const key of phoneKeys(phone)) {
        const stored = await get(key);
        if (stored !== undefined) return open(stored);
      }
      return undefined;
    },
    async createLinkToken(accountId, tokenTtlMs) {
      const token = newLinkToken();
      await set(tokenKey(token), accountId, tokenTtlMs);
      return token;
    },
    async redeemLinkToken(token) {
      const key = tokenKey(token);
      return (await call(() => topology.forKey(key).getdel(key))) ?? undefined;
    },
    async linkAccount(accountId, chatId) {
      await set(accountKey(accountId), seal(chatId), ttlMs);
    },
    async chatForAccount(accountId) {
      const stored = await get(accountKey(accountId));
      return stored === undefined ? undefined : open(stored);
    },
  };
}
