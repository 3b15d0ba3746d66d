import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from "jose";

/** What a verification token states. */
export interface VerificationClaims {
  /** The challenge id or TOTP factor id that was verified. */
  subject: string;
  kind: "challenge" | "totp";
  /** The canonical hash of the challenge's binding; empty when none. */
  bindingHash: string;
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
  audience?: string;
  ttlSeconds: number;
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
 * (the verified id), `aud` when configured, `iat`, `exp`, `jti`, and `otp`
 * claims saying what was verified. Each key's `kid` is its JWK thumbprint.
 *
 * @example
 * const signer = await createTokenSigner({ keys, issuer: "otp-service", ttlSeconds: 300 });
 * const token = await signer.sign({ subject: id, kind: "challenge", bindingHash, verifiedAtMs: Date.now() });
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
  return {
    async sign(claims) {
      let jwt = new SignJWT({
        otp: {
          kind: claims.kind,
          binding_hash: claims.bindingHash,
          verified_at: Math.floor(claims.verifiedAtMs / 1000),
        },
      })
        .setProtectedHeader({ alg, kid: currentPublic.kid as string, typ: "JWT" })
        .setIssuer(options.issuer)
        .setSubject(claims.subject)
        .setIssuedAt()
        .setExpirationTime(`${options.ttlSeconds}s`)
        .setJti(crypto.randomUUID());
      if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
      return jwt.sign(key);
    },
    jwks: () => ({ keys: published }),
  };
}

/** Makes a fresh Ed25519 private JWK, for development when no key is configured. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return exportJWK(privateKey);
}
