import { randomBytes } from "node:crypto";
import { sharedKeys, testAdminToken } from "../test/support/secrets.js";

/** One way of running the service (or the bare floor) that the bench measures. */
export interface BenchConfig {
  /** Short name, used by `--only` and in the JSON. */
  name: string;
  /** The label in the table. */
  label: string;
  kind: "bare" | "service";
  store: "none" | "memory" | "redis";
  /** NODE_ENV=production, calls made with a secret API key. */
  production: boolean;
  /** Environment for the service beyond the store's. */
  env: Record<string, string>;
}

// Development rows: no limit, quota or cooldown would throttle a load from one address.
const noLimits = {
  RATE_LIMIT_GENERATE_PER_IP: "off",
  RATE_LIMIT_VERIFY_PER_IP: "off",
  RATE_LIMIT_VERIFY_PER_CHALLENGE: "off",
  RATE_LIMIT_SENDS_PER_RECIPIENT: "off",
  RATE_LIMIT_PUBLISHABLE_PER_IP: "off",
  TENANT_QUOTA_GENERATE: "off",
  TENANT_QUOTA_SENDS_PER_CHANNEL: "off",
  RESEND_COOLDOWN_SECONDS: "0",
};

/**
 * Production rows keep every limit, quota and usage counter on. The ones a
 * load from one address, one tenant and one challenge would exhaust within a
 * second get a count no run reaches (1,000,000 a minute), so every call still
 * pays for checking and counting them but none is refused.
 */
export const raisedLimits = {
  RATE_LIMIT_GENERATE_PER_IP: "1000000/1m",
  RATE_LIMIT_VERIFY_PER_IP: "1000000/1m",
  TENANT_QUOTA_GENERATE: "1000000/1m",
  RATE_LIMIT_VERIFY_PER_CHALLENGE: "1000000/1m",
};

/** The service's environment common to every configuration: quiet logs, fixed secrets for the run. */
function baseEnv(): Record<string, string> {
  return {
    LOG_LEVEL: "warn",
    SHUTDOWN_GRACE_SECONDS: "1",
    OTP_HMAC_SECRET: randomBytes(32).toString("base64url"),
    ADMIN_TOKEN: testAdminToken,
    ...sharedKeys,
  };
}

/** Every configuration, in the order they run. */
export function allConfigs(): BenchConfig[] {
  const base = baseEnv();
  const dev = { ...base, ...noLimits, WORKERS: "1" };
  const prod = { ...base, ...raisedLimits, NODE_ENV: "production" };
  return [
    {
      name: "bare",
      label: "bare Connect-node (floor)",
      kind: "bare",
      store: "none",
      production: false,
      env: {},
    },
    {
      name: "memory-dev",
      label: "memory · dev · 1 process",
      kind: "service",
      store: "memory",
      production: false,
      env: dev,
    },
    {
      name: "redis-dev",
      label: "redis · dev · 1 process",
      kind: "service",
      store: "redis",
      production: false,
      env: dev,
    },
    {
      name: "redis-prod",
      label: "redis · prod+key · 1 process",
      kind: "service",
      store: "redis",
      production: true,
      env: { ...prod, WORKERS: "1" },
    },
    {
      name: "redis-prod-auto",
      label: "redis · prod+key · WORKERS=auto",
      kind: "service",
      store: "redis",
      production: true,
      env: { ...prod, WORKERS: "auto" },
    },
  ];
}
