import { type Area, flag, integer, type Values } from "./schema.js";

/** How challenges resend and how long they are kept. */
export const challengeVariables = {
  RESEND_COOLDOWN_SECONDS: integer({
    default: 30,
    min: 0,
    max: 86_400,
    unit: "s",
    description: "The least time between two codes of one challenge (`RESEND_COOLDOWN`).",
  }),
  RESEND_MAX_SENDS: integer({
    default: 5,
    min: 1,
    max: 100,
    description:
      "The most codes one challenge may have, the first included (`SEND_LIMIT_REACHED`).",
  }),
  RESEND_NEW_CODE: flag({
    defaultText: "false",
    description:
      "`true`: every Resend sends a new code. By default a Resend sends the same code while it is valid (it is kept sealed with a key derived from `OTP_HMAC_SECRET`, never in the clear), so a person holding two messages holds one code; attempts are counted per challenge either way.",
  }),
  CHALLENGE_RETENTION_SECONDS: integer({
    default: 3600,
    min: 0,
    max: 30 * 86_400,
    unit: "s",
    description:
      "How long a challenge (and its idempotency key) stays after its code expires; after that its id is `CHALLENGE_NOT_FOUND`.",
  }),
};

/** The challenges area of the reference. */
export const challengesArea: Area = {
  title: "Challenges",
  summary:
    "Resends (the same code or a new one) and retention of OTP challenges; a challenge's own TTL and attempts come with each `Generate`.",
  variables: challengeVariables,
};

/** The challenge part of {@link Config}. */
export interface ChallengesConfig {
  resendCooldownSeconds: number;
  maxSendsPerChallenge: number;
  challengeRetentionSeconds: number;
  /** A new code for every Resend, instead of the same code while it is valid. */
  resendNewCode: boolean;
}

/** Builds the challenge settings. */
export function readChallenges(v: Values<typeof challengeVariables>): ChallengesConfig {
  return {
    resendCooldownSeconds: v.RESEND_COOLDOWN_SECONDS,
    maxSendsPerChallenge: v.RESEND_MAX_SENDS,
    challengeRetentionSeconds: v.CHALLENGE_RETENTION_SECONDS,
    resendNewCode: v.RESEND_NEW_CODE ?? false,
  };
}
