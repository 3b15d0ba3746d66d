import { type Area, type Context, choice, integer, parsed, type Values } from "./schema.js";

/** What the fraud guard does: refuse sends to a suspect prefix, only report them, or nothing. */
export type FraudMode = "enforce" | "report" | "off";

/**
 * Parses a share from 0 to 1 written as a decimal ("0.2", ".25", "1").
 * Throws an Error saying what is accepted.
 *
 * @example
 * parseRate("0.2"); // 0.2
 */
export function parseRate(text: string): number {
  const value = Number(text);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text.trim()) || !(value >= 0 && value <= 1)) {
    throw new Error(`must be a decimal from 0 to 1 such as 0.2, got "${text}"`);
  }
  return value;
}

/** The fraud guard against SMS pumping (docs/fraud-guard.md). */
export const fraudVariables = {
  FRAUD_GUARD: choice(["enforce", "report", "off"], {
    defaultText: "`enforce` in production, `report` otherwise",
    description:
      "What the guard against SMS pumping does when a destination prefix sends much and verifies little: `enforce` refuses further sends to it (`FRAUD_SUSPECTED`) for the cool-down, `report` lets them through but audits and counts what it would have refused, `off` counts nothing.",
  }),
  FRAUD_WINDOW_SECONDS: integer({
    default: 3600,
    min: 60,
    max: 6 * 3600,
    unit: "s",
    description:
      "The sliding window over which sends and verifications of one tenant and destination prefix are summed (in minute buckets, so up to a minute more).",
  }),
  FRAUD_MIN_SENDS: integer({
    default: 30,
    min: 1,
    max: 1_000_000,
    description:
      "The floor: a prefix is judged only once it had at least this many code sends in the window.",
  }),
  FRAUD_MIN_VERIFY_RATE: parsed(parseRate, {
    type: "decimal",
    fallback: "0.2",
    allowed: "0..1",
    description:
      "Verified codes per code send below which a prefix over the floor is blocked, e.g. `0.2`: fewer than one in five codes sent there is ever verified.",
  }),
  FRAUD_COOLDOWN_SECONDS: integer({
    default: 3600,
    min: 10,
    max: 7 * 86_400,
    unit: "s",
    description:
      "How long a blocked prefix stays blocked; the refusal's `RetryInfo` says how much of it is left.",
  }),
  FRAUD_PREFIX_DIGITS: integer({
    default: 3,
    min: 0,
    max: 6,
    description:
      "Digits of the national number that join the country calling code to make a destination prefix (`+44 791` with 3); 0 judges whole calling codes.",
  }),
  FRAUD_EVALUATE_MS: integer({
    default: 2000,
    min: 50,
    max: 60_000,
    unit: "ms",
    description:
      "How often each process writes its counts (one batch), judges the prefixes it sent to and reads the blocks every replica made; a block reaches every replica within about twice this.",
  }),
};

/** The fraud area of the reference. */
export const fraudArea: Area = {
  title: "Fraud guard",
  summary:
    "Counts code sends and verifications per tenant and destination prefix and blocks prefixes that are pumped ([Fraud guard](fraud-guard.md)). These are the service-wide thresholds; premium-rate and other risky number types stay refused by type whatever they say.",
  variables: fraudVariables,
};

/** The fraud part of {@link Config}. */
export interface FraudConfig {
  mode: FraudMode;
  windowMs: number;
  minSends: number;
  minVerifyRate: number;
  cooldownMs: number;
  prefixDigits: number;
  evaluateMs: number;
}

/** Reads the fraud area. */
export function readFraud(v: Values<typeof fraudVariables>, ctx: Context): FraudConfig {
  return {
    mode: v.FRAUD_GUARD ?? (ctx.mode === "production" ? "enforce" : "report"),
    windowMs: v.FRAUD_WINDOW_SECONDS * 1000,
    minSends: v.FRAUD_MIN_SENDS,
    minVerifyRate: v.FRAUD_MIN_VERIFY_RATE,
    cooldownMs: v.FRAUD_COOLDOWN_SECONDS * 1000,
    prefixDigits: v.FRAUD_PREFIX_DIGITS,
    evaluateMs: v.FRAUD_EVALUATE_MS,
  };
}
