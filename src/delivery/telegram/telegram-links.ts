import { createHash, randomBytes } from "node:crypto";

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
 * The account id as links store it, so that account links belong to a
 * tenant: `<tenant>/<id>`, so `account:<id>` of one tenant never reaches a
 * chat another tenant linked, and no tenant can replace another's link. The
 * deep link's token carries this id, so the bot links it without knowing the
 * tenant. Phone links stay global: a phone number is its owner's, whoever asks.
 *
 * @example
 * links.chatForAccount(tenantAccountId("ten_123", "user-1"));
 */
export function tenantAccountId(tenantId: string | undefined, accountId: string): string {
  return `${tenantId ?? "default"}/${accountId}`;
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
