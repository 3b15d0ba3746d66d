import { createHash, randomBytes } from "node:crypto";
import { currentTenant } from "../../core/tenant-scope.js";

/**
 * Who a Telegram chat belongs to: phone numbers (from a contact the user
 * shared with the bot) and opaque account ids (from a deep link) mapped to
 * chat ids, and the single-use tokens that deep links carry.
 */
export interface TelegramLinks {
  /** Maps an E.164 phone number to a chat, replacing any earlier chat. */
  link(phone: string, chatId: string): Promise<void>;
  /** The chat linked to an E.164 phone number, if any. */
  chatFor(phone: string): Promise<string | undefined>;
  /**
   * Creates a single-use token that links the chat which presents it (as
   * `/start <token>`) to `accountId`. Put it in `https://t.me/<bot>?start=<token>`.
   */
  createLinkToken(accountId: string, ttlMs: number): Promise<string>;
  /** Consumes a token: the account id it was made for, or undefined if unknown, used or expired. */
  redeemLinkToken(token: string): Promise<string | undefined>;
  /** Maps an account id to a chat, replacing any earlier chat. */
  linkAccount(accountId: string, chatId: string): Promise<void>;
  /** The chat linked to an account id, if any. */
  chatForAccount(accountId: string): Promise<string | undefined>;
}

/**
 * Makes account links belong to the tenant of the call: an account id is
 * stored as `<tenant>/<id>`, so `account:<id>` of one tenant never reaches a
 * chat another tenant linked, and no tenant can replace another's link. The
 * token carries the scoped id, so the bot links it without knowing the
 * tenant. Phone links stay global: a phone number is its owner's, whoever asks.
 */
export function scopeAccountsToTenant(inner: TelegramLinks): TelegramLinks {
  const scoped = (accountId: string) => `${currentTenant() ?? "default"}/${accountId}`;
  return {
    link: (phone, chatId) => inner.link(phone, chatId),
    chatFor: (phone) => inner.chatFor(phone),
    createLinkToken: (accountId, ttlMs) => inner.createLinkToken(scoped(accountId), ttlMs),
    redeemLinkToken: (token) => inner.redeemLinkToken(token),
    linkAccount: (accountId, chatId) => inner.linkAccount(accountId, chatId),
    chatForAccount: (accountId) => inner.chatForAccount(scoped(accountId)),
  };
}

/** How long a link lives unless refreshed, unless configured otherwise: 365 days. */
export const defaultLinkTtlMs = 365 * 24 * 3600 * 1000;

/**
 * A new deep-link token: 32 random bytes in base64url (43 characters), within
 * what Telegram allows in a start parameter (64 characters of A-Z, a-z, 0-9, _ and -).
 */
export function newLinkToken(): string {
  return randomBytes(32).toString("base64url");
}

/** What the stores keep instead of a token, so a leaked store cannot be replayed. */
export function linkTokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Tells whether `token` has the shape of a token made by {@link newLinkToken}. */
export function isLinkTokenShape(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}
