import { generateKeyPairSync, randomBytes } from "node:crypto";

/** A private Ed25519 JWK, as TOKEN_SIGNING_KEYS holds them. */
export function testSigningJwk(): Record<string, unknown> {
  return generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }) as Record<
    string,
    unknown
  >;
}

/**
 * The keys a service needs beyond OTP_HMAC_SECRET when it keeps state in
 * Redis or runs in production: fixed for the life of the test process, so
 * two instances in one test share them, as two replicas would.
 */
export const sharedKeys = {
  TOTP_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  TOKEN_SIGNING_KEYS: JSON.stringify([testSigningJwk()]),
};

/** The AdminService credential test servers are given. */
export const testAdminToken = "admin-token-for-tests-only-0123456789";

/** Everything NODE_ENV=production requires, plus an admin credential for making API keys. */
export function productionEnv(): Record<string, string> {
  return {
    NODE_ENV: "production",
    OTP_HMAC_SECRET: "p".repeat(40),
    ADMIN_TOKEN: testAdminToken,
    ...sharedKeys,
  };
}
