import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * Seals secrets at rest with AES-256-GCM. The first key seals; every key, the
 * previous ones included, can open, so the key can rotate without losing a
 * factor. A sealed value names its key by a short fingerprint and is bound to
 * a context (the factor id), so it cannot be moved to another record.
 */
export interface SecretBox {
  seal(plain: string, context: string): string;
  /** Opens a sealed value; throws if no key opens it or it was tampered with. */
  open(sealed: string, context: string): string;
}

/** The fingerprint that names a key inside sealed values. */
function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, 8);
}

/**
 * Creates a {@link SecretBox} from 32-byte keys, current first.
 *
 * @example
 * const box = createSecretBox([Buffer.from(process.env.TOTP_ENCRYPTION_KEY, "base64")]);
 * const sealed = box.seal("JBSWY3DPEHPK3PXP", factorId);
 */
export function createSecretBox(keys: readonly Buffer[]): SecretBox {
  if (keys.length === 0 || keys.some((k) => k.length !== 32)) {
    throw new Error("createSecretBox needs 32-byte keys");
  }
  const byId = new Map(keys.map((k) => [keyId(k), k]));
  const current = keys[0] as Buffer;
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      const parts = [iv, body, cipher.getAuthTag()].map((b) => b.toString("base64url"));
      return ["v1", keyId(current), ...parts].join(".");
    },
    open(sealed, context) {
      const [version, id, iv, body, tag] = sealed.split(".");
      const key = id === undefined ? undefined : byId.get(id);
      if (version !== "v1" || key === undefined || !iv || !body || !tag) {
        throw new Error("sealed value is malformed or its key is not configured");
      }
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([
        decipher.update(Buffer.from(body, "base64url")),
        decipher.final(),
      ]).toString("utf8");
    },
  };
}
