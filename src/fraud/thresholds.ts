/** What the guard does for a tenant: refuse sends to a blocked prefix, only report them, or nothing. */
export type FraudMode = "enforce" | "report" | "off";

/** When a tenant's destination prefix counts as pumped, and what follows. */
export interface FraudThresholds {
  mode: FraudMode;
  /** The sliding window sends and verifications are summed over, in milliseconds. */
  windowMs: number;
  /** The floor: fewer code sends than this in the window are never judged. */
  minSends: number;
  /** Verified codes per code send (0..1) below which a prefix over the floor is blocked. */
  minVerifyRate: number;
  /** How long a block lasts, in milliseconds. */
  cooldownMs: number;
}

/** What a tenant may set for itself (tenant settings, once they exist); unset fields keep the service's. */
export type FraudOverrides = Partial<FraudThresholds>;

/**
 * The thresholds that apply to one tenant: the service-wide ones with the
 * tenant's own overrides on top. Pure, so the tenant settings can feed it
 * from their in-process cache without a store call.
 *
 * @example
 * resolveThresholds(serviceWide, { minSends: 100 }).minSends; // 100
 */
export function resolveThresholds(
  serviceWide: FraudThresholds,
  overrides: FraudOverrides | undefined,
): FraudThresholds {
  if (overrides === undefined) return serviceWide;
  return {
    mode: overrides.mode ?? serviceWide.mode,
    windowMs: overrides.windowMs ?? serviceWide.windowMs,
    minSends: overrides.minSends ?? serviceWide.minSends,
    minVerifyRate: overrides.minVerifyRate ?? serviceWide.minVerifyRate,
    cooldownMs: overrides.cooldownMs ?? serviceWide.cooldownMs,
  };
}

/** Sends and verified codes of one tenant and prefix in a window. */
export interface FraudCounts {
  sends: number;
  verified: number;
}

/**
 * Whether a prefix with these counts is pumped: at least the floor of sends,
 * and a verification rate below the threshold.
 *
 * @example
 * isPumped({ sends: 40, verified: 2 }, thresholds); // true with a floor of 30 and a rate of 0.2
 */
export function isPumped(counts: FraudCounts, thresholds: FraudThresholds): boolean {
  if (thresholds.mode === "off" || counts.sends < thresholds.minSends || counts.sends <= 0) {
    return false;
  }
  return counts.verified / counts.sends < thresholds.minVerifyRate;
}
