import { createHmac, hkdfSync } from "node:crypto";
import { createSecretBox, type SecretBox } from "./secret-box.js";

/**
 * Keeps recipients (phone numbers, email addresses, Telegram chat ids) out of
 * Redis in the clear: key names carry a keyed hash of the recipient, records
 * carry it sealed with AES-256-GCM.
 *
 * Both keys are derived with HKDF from the service's HMAC secrets
 * (OTP_HMAC_SECRET, then OTP_HMAC_PREVIOUS_SECRETS), under labels of their
 * own, so the recipient keys are domain-separated from the code HMAC and from
 * each other. The current secret hashes and seals; lookups try the hash under
 * every secret, current first, and any secret opens, so a rotation loses
 * nothing.
 */
export interface RecipientVault {
  /** A keyed hash of `value` for `purpose`, under the current secret: for key names and filters. */
  index(purpose: string, value: string): string;
  /** {@link index} under every secret, current first, for lookups that must survive a rotation. */
  indexes(purpose: string, value: string): string[];
  /** Seals `value`, bound to `context` (for example the record's id), under the current secret. */
  seal(value: string, context: string): string;
  /** Opens a value sealed by {@link seal} under any secret; throws if none opens it. */
  open(sealed: string, context: string): string;
}

/** The HKDF salt of every recipient key; changing it would orphan every stored index. */
const salt = "otp-recipient-v1";

function derive(secret: string, label: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, salt, label, 32));
}

/**
 * Creates a {@link RecipientVault} from the HMAC secrets, current first.
 *
 * @example
 * const vault = createRecipientVault(config.hmacSecrets);
 * const key = `otp:telegram:phone:${vault.index("telegram-phone", "+14155552671")}`;
 * const sealed = vault.seal("+14155552671", challengeId);
 */
export function createRecipientVault(secrets: readonly string[]): RecipientVault {
  if (secrets.length === 0) throw new Error("createRecipientVault needs at least one secret");
  const indexKeys = secrets.map((s) => derive(s, "recipient-index"));
  const box: SecretBox = createSecretBox(secrets.map((s) => derive(s, "recipient-seal")));
  const mac = (key: Buffer, purpose: string, value: string) =>
    createHmac("sha256", key).update(`${purpose}\0${value}`).digest("base64url");
  return {
    index: (purpose, value) => mac(indexKeys[0] as Buffer, purpose, value),
    indexes: (purpose, value) => indexKeys.map((k) => mac(k, purpose, value)),
    seal: (value, context) => box.seal(value, context),
    open: (sealed, context) => box.open(sealed, context),
  };
}

/** Tells whether a stored value has the form {@link RecipientVault.seal} gives (not a plain value from before sealing). */
export function isSealed(value: string): boolean {
  return value.startsWith("v1.");
}
