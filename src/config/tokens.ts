import { type Area, integer, text, type Values } from "./schema.js";

/** TOTP factors and verification tokens; their keys are in the secrets area. */
export const tokenVariables = {
  TOTP_ISSUER: text({
    default: "OTP Service",
    description: "The issuer authenticator apps show when `EnrollTotp` gives none.",
  }),
  TOTP_WINDOW: integer({
    default: 1,
    min: 0,
    max: 10,
    unit: "steps",
    description: "30-second steps accepted either side of now.",
  }),
  TOTP_MAX_FAILURES: integer({
    default: 5,
    min: 1,
    max: 100,
    description: "Wrong codes before a factor is locked out.",
  }),
  TOTP_LOCKOUT_SECONDS: integer({
    default: 300,
    min: 1,
    max: 86_400,
    unit: "s",
    description: "The length of a lock-out.",
  }),
  TOTP_PENDING_SECONDS: integer({
    default: 600,
    min: 30,
    max: 86_400,
    unit: "s",
    description: "How long an enrolled factor waits for `ConfirmTotp`.",
  }),
  TOTP_RETENTION_DAYS: integer({
    default: 400,
    min: 1,
    max: 3650,
    unit: "days",
    description: "How long an active factor is kept after its last use.",
  }),
  TOKEN_ISSUER: text({ default: "otp-service", description: "The `iss` of verification tokens." }),
  TOKEN_AUDIENCE: text({
    defaultText: "unset (the tenant id)",
    description:
      "The `aud` of verification tokens; when unset, each token's audience is the id of the tenant whose key verified.",
  }),
  TOKEN_TTL_SECONDS: integer({
    default: 300,
    min: 10,
    max: 86_400,
    unit: "s",
    description: "The lifetime of a verification token.",
  }),
};

/** The tokens and TOTP area of the reference. */
export const tokensArea: Area = {
  title: "TOTP and tokens",
  summary:
    "Authenticator-app factors and the signed tokens a verification returns. Their keys are under [Secrets and keys](#secrets-and-keys).",
  variables: tokenVariables,
};

/** The TOTP settings of {@link Config}, without the keys. */
export interface TotpSettings {
  issuer: string;
  window: number;
  maxFailures: number;
  lockoutSeconds: number;
  pendingSeconds: number;
  retentionSeconds: number;
}

/** The token settings of {@link Config}, without the keys. */
export interface TokenSettings {
  issuer: string;
  audience: string | undefined;
  ttlSeconds: number;
}

/** Builds the TOTP and token settings. */
export function readTokens(v: Values<typeof tokenVariables>): {
  totp: TotpSettings;
  tokens: TokenSettings;
} {
  return {
    totp: {
      issuer: v.TOTP_ISSUER,
      window: v.TOTP_WINDOW,
      maxFailures: v.TOTP_MAX_FAILURES,
      lockoutSeconds: v.TOTP_LOCKOUT_SECONDS,
      pendingSeconds: v.TOTP_PENDING_SECONDS,
      retentionSeconds: v.TOTP_RETENTION_DAYS * 86_400,
    },
    tokens: {
      issuer: v.TOKEN_ISSUER,
      audience: v.TOKEN_AUDIENCE,
      ttlSeconds: v.TOKEN_TTL_SECONDS,
    },
  };
}
