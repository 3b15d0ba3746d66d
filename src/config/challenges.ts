import { type Area, integer, type Values } from "./schema.js";

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
    "Resends and retention of OTP challenges; a challenge's own TTL and attempts come with each `Generate`.",
  variables: challengeVariables,
};

/** The challenge part of {@link Config}. */
export interface ChallengesConfig {
  resendCooldownSeconds: number;
  maxSendsPerChallenge: number;
  challengeRetentionSeconds: number;
}

/** Builds the challenge settings. */
export function readChallenges(v: Values<typeof challengeVariables>): ChallengesConfig {
  return {
    resendCooldownSeconds: v.RESEND_COOLDOWN_SECONDS,
    maxSendsPerChallenge: v.RESEND_MAX_SENDS,
    challengeRetentionSeconds: v.CHALLENGE_RETENTION_SECONDS,
  };
}
