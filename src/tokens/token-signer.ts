import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from "jose";
import { bindingProof, deriveBindingKey } from "./binding-proof.js";

/** What a verification token states. */
export interface VerificationClaims {
  /** The challenge id or TOTP factor id that was verified. */
  subject: string;
  kind: "challenge" | "totp";
  /** The tenant whose caller verified; also the default `aud`. */
  tenantId: string;
  /**
   * The verified binding as canonical JSON (keys sorted at every depth); empty
   * when none. Only its keyed hash reaches the token.
   */
  canonicalBinding: string;
  verifiedAtMs: number;
}

/** Signs verification results and publishes the keys that check them. */
export interface TokenSigner {
  sign(claims: VerificationClaims): Promise<string>;
  /** The public keys, every configured key included, as a JWK Set. */
  jwks(): { keys: JWK[] };
}

/** Options for {@link createTokenSigner}. */
export interface TokenSignerOptions {
  /** Private JWKs (Ed25519 or P-256), current first; the others stay published so older tokens still verify. */
  keys: JWK[];
  issuer: string;
  /** The `aud` of every token; when unset, each token's audience is its tenant id. */
  audience?: string;
  ttlSeconds: number;
  /** The current OTP HMAC secret, from which each tenant's binding key is derived ({@link deriveBindingKey}). */
  bindingSecret: string;
}

function algorithmOf(jwk: JWK): "EdDSA" | "ES256" {
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  throw new Error("signing keys must be Ed25519 (OKP) or P-256 (EC) JWKs");
}

function publicPart(jwk: JWK): JWK {
  const { d: _d, ...rest } = jwk;
  return rest;
}

/**
 * Creates a {@link TokenSigner}. Tokens are short-lived JWTs: `iss`, `sub`
 * (the verified id), `aud` (the configured audience, else the tenant id, so
 * a token made for one tenant does not pass another tenant's audience
 * check), `tenant`, `iat`, `exp`, `jti`, and `otp` claims saying what was
 * verified, the binding only as a keyed hash ({@link bindingProof}). Each
 * key's `kid` is its JWK thumbprint.
 *
 * @example
 * const signer = await createTokenSigner({ keys, issuer: "otp-service", ttlSeconds: 300, bindingSecret });
 * const token = await signer.sign({
 *   subject: id, kind: "challenge", tenantId: "ten_123", canonicalBinding: "", verifiedAtMs: Date.now(),
 * });
 */
export async function createTokenSigner(options: TokenSignerOptions): Promise<TokenSigner> {
  if (options.keys.length === 0) throw new Error("createTokenSigner needs a key");
  const published = await Promise.all(
    options.keys.map(async (jwk) => {
      const alg = algorithmOf(jwk);
      const pub = publicPart(jwk);
      return { ...pub, alg, use: "sig", kid: await calculateJwkThumbprint(pub) } as JWK;
    }),
  );
  const current = options.keys[0] as JWK;
  const currentPublic = published[0] as JWK;
  const alg = algorithmOf(current);
  const key = await importJWK(current, alg);
  // One HKDF per tenant, not per token; tenants are few, and their keys small.
  const bindingKeys = new Map<string, Buffer>();
  const bindingKeyOf = (tenantId: string) => {
    let k = bindingKeys.get(tenantId);
    if (k === undefined) {
      k = deriveBindingKey(options.bindingSecret, tenantId);
      bindingKeys.set(tenantId, k);
    }
    return k;
  };
  return {
    async sign(claims) {
      return new SignJWT({
        tenant: claims.tenantId,
        otp: {
          kind: claims.kind,
          binding_hash: bindingProof(bindingKeyOf(claims.tenantId), claims.canonicalBinding),
          verified_at: Math.floor(claims.verifiedAtMs / 1000),
        },
      })
        .setProtectedHeader({ alg, kid: currentPublic.kid as string, typ: "JWT" })
        .setIssuer(options.issuer)
        .setSubject(claims.subject)
        .setIssuedAt()
        .setExpirationTime(`${options.ttlSeconds}s`)
        .setJti(crypto.randomUUID())
        .setAudience(options.audience ?? claims.tenantId)
        .sign(key);
    },
    jwks: () => ({ keys: published }),
  };
}

/** Makes a fresh Ed25519 private JWK, for development when no key is configured. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return exportJWK(privateKey);
}
