import type { RedisTopology } from "../store/redis/topology.js";
import {
  defaultLinkTtlMs,
  linkTokenDigest,
  newLinkToken,
  type TelegramLinks,
} from "./telegram-links.js";

/** Options for {@link createRedisTelegramLinks}. */
export interface RedisTelegramLinksOptions {
  topology: RedisTopology;
  /** Namespaces every key, for example "otp:"; the same prefix as the store. */
  keyPrefix: string;
  /** How long a phone or account link lives after it was last made, in milliseconds. */
  linkTtlMs?: number;
}

/**
 * {@link TelegramLinks} in Redis: one string key per phone, account and token,
 * each placed by `topology.forKey` on its own key and each written with an
 * expiry. Tokens are stored by their SHA-256 and consumed with GETDEL, so a
 * token links at most one chat even when two updates race.
 */
export function createRedisTelegramLinks(options: RedisTelegramLinksOptions): TelegramLinks {
  const { topology, keyPrefix } = options;
  const ttlMs = options.linkTtlMs ?? defaultLinkTtlMs;
  const phoneKey = (phone: string) => `${keyPrefix}telegram:phone:${phone}`;
  const accountKey = (accountId: string) => `${keyPrefix}telegram:account:${accountId}`;
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
      await set(phoneKey(phone), chatId, ttlMs);
    },
    chatFor: (phone) => get(phoneKey(phone)),
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
      await set(accountKey(accountId), chatId, ttlMs);
    },
    chatForAccount: (accountId) => get(accountKey(accountId)),
  };
}
