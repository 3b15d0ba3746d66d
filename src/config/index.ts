/**
 * The service's configuration: every environment variable declared once, in
 * one schema module per area (zod schemas carrying their documentation), and
 * read by {@link loadConfig}. docs/configuration.md is generated from the
 * same declarations (`npm run docs`).
 *
 * This folder imports nothing else from `src/`: other modules import its
 * types and its few pure parsers from here.
 */
import type { JWK } from "jose";
import { type AuditConfig, auditArea, auditVariables, readAudit } from "./audit.js";
import {
  type ChallengesConfig,
  challengesArea,
  challengeVariables,
  readChallenges,
} from "./challenges.js";
import { type ConsoleConfig, consoleArea, consoleVariables, readConsole } from "./console.js";
import { type DeliveryConfig, deliveryArea, deliveryVariables, readDelivery } from "./delivery.js";
import { emailArea, emailVariables } from "./email.js";
import { type FraudConfig, fraudArea, fraudVariables, readFraud } from "./fraud.js";
import {
  limitsArea,
  limitVariables,
  type PlusTagDomains,
  type RateLimitsConfig,
  readRateLimits,
} from "./limits.js";
import {
  type RedisConfig,
  readRedis,
  redisArea,
  redisLayoutNames,
  redisVariables,
} from "./redis.js";
import {
  type Area,
  type Context,
  type Env,
  type Mode,
  metaOf,
  parseVariables,
  readRaw,
} from "./schema.js";
import { readSecrets, secretsArea, secretVariables } from "./secrets.js";
import { modeOf, readServer, type ServerConfig, serverArea, serverVariables } from "./server.js";
import { telegramArea, telegramVariables } from "./telegram.js";
import { telegramGatewayArea, telegramGatewayVariables } from "./telegram-gateway.js";
import {
  readTokens,
  type TokenSettings,
  type TotpSettings,
  tokensArea,
  tokenVariables,
} from "./tokens.js";
import { twilioArea, twilioVariables } from "./twilio.js";
import { readWebhooks, type WebhookConfig, webhookArea, webhookVariables } from "./webhooks.js";

export type { AuditConfig } from "./audit.js";
export { parseCidrList } from "./console.js";
export type { RetryPolicy } from "./delivery.js";
export { parseCountryList } from "./delivery.js";
export type { EmailConfig } from "./email.js";
export type { FraudConfig, FraudMode } from "./fraud.js";
export {
  gmailDomains,
  type PlusTagDomains,
  parseLimit,
  parsePlusTagDomains,
  type RateLimit,
} from "./limits.js";
export type { RedisLayout } from "./redis.js";
export type { Area, Env, Mode, VariableMeta } from "./schema.js";
export { metaOf } from "./schema.js";
export type { LogLevel } from "./server.js";
export { parseTrustedProxies } from "./server.js";
export type { TelegramConfig, TelegramUpdates } from "./telegram.js";
export type { TelegramGatewayConfig } from "./telegram-gateway.js";
export {
  type BuiltInTemplateLocale,
  builtInTemplateLocales,
  checkCatalog,
  loadTemplateOverrides,
  type MessageTemplate,
  normalizeLocale,
  placeholderPattern,
  type TemplateCatalog,
  type TemplateChannel,
} from "./templates.js";
export type { TwilioConfig } from "./twilio.js";
export type { WebhookConfig } from "./webhooks.js";
export type { ConsoleConfig, DeliveryConfig, RateLimitsConfig, RedisConfig };

/**
 * Every area, in the order of the reference. Their variables together are
 * everything the service reads from its environment (OpenTelemetry's own
 * `OTEL_*` variables aside).
 */
export const configAreas: readonly Area[] = [
  serverArea,
  secretsArea,
  challengesArea,
  limitsArea,
  redisArea,
  deliveryArea,
  telegramArea,
  telegramGatewayArea,
  twilioArea,
  emailArea,
  fraudArea,
  tokensArea,
  auditArea,
  webhookArea,
  consoleArea,
];

// Every variable by name; one name belongs to one area.
const variables = {
  ...serverVariables,
  ...secretVariables,
  ...challengeVariables,
  ...limitVariables,
  ...redisVariables,
  ...deliveryVariables,
  ...telegramVariables,
  ...telegramGatewayVariables,
  ...twilioVariables,
  ...emailVariables,
  ...fraudVariables,
  ...tokenVariables,
  ...auditVariables,
  ...webhookVariables,
  ...consoleVariables,
};

/** Everything the service reads from its environment, parsed and checked. */
export interface Config extends ServerConfig, ChallengesConfig {
  /** "production" refuses the outbox and every development default. */
  mode: Mode;
  /** The current HMAC secret first, then previous ones still accepted for verification. */
  hmacSecrets: string[];
  /** True when no secret was configured and a random one was made for this process. */
  hmacSecretGenerated: boolean;
  /** Limits kept in the store; "off" disables one. */
  rateLimits: RateLimitsConfig;
  /**
   * Where `+tags` of email addresses are dropped when recipients are counted
   * against the per-recipient limit ("all" domains by default); Gmail's always are.
   */
  plusTagDomains: PlusTagDomains;
  totp: TotpSettings & {
    /** AES-256-GCM keys for TOTP secrets at rest, current first. */
    encryptionKeys: Buffer[];
    encryptionKeyGenerated: boolean;
  };
  tokens: TokenSettings & {
    /** Private JWKs, current first; undefined means generate one at start (development only). */
    signingKeys: JWK[] | undefined;
  };
  /** The credential AdminService takes; undefined disables AdminService. */
  adminToken: string | undefined;
  /** True when every RPC but health and reflection needs an API key (production). */
  requireApiKey: boolean;
  /** Channels, providers, templates and retries. */
  delivery: DeliveryConfig;
  /** Where state lives in Redis; undefined means the in-memory store. */
  redis: RedisConfig | undefined;
  /** The audit trail's retention, and how often last uses of keys are written. */
  audit: AuditConfig;
  /** Outbound events and webhook delivery. */
  webhooks: WebhookConfig;
  /** The operator console and its sessions. */
  console: ConsoleConfig;
  /** The guard against SMS pumping: its mode and service-wide thresholds. */
  fraud: FraudConfig;
}

/** A configuration that cannot start the service; the message names every variable at fault. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

/**
 * Reads and checks every environment variable in one place, and fails with
 * one error listing every problem.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  // Every area's variables parse first, so each invalid one is reported once.
  const v = parseVariables(variables, env, problems);
  const ctx: Context = {
    mode: modeOf(v),
    isSet: (name) => readRaw(env, name) !== undefined,
    redisConfigured: redisLayoutNames.some((name) => readRaw(env, name) !== undefined),
    problem: (name, message) => problems.push(`${name}: ${message}`),
  };
  checkDeclaredRules(ctx);
  const server = readServer(v, ctx);
  const secrets = readSecrets(v, ctx);
  const { totp, tokens } = readTokens(v);
  const config: Config = {
    mode: ctx.mode,
    ...server,
    ...readChallenges(v),
    hmacSecrets: secrets.hmacSecrets,
    hmacSecretGenerated: secrets.hmacSecretGenerated,
    rateLimits: readRateLimits(v),
    plusTagDomains: v.RATE_LIMIT_PLUS_TAG_DOMAINS,
    totp: {
      ...totp,
      encryptionKeys: secrets.totpEncryptionKeys,
      encryptionKeyGenerated: secrets.totpEncryptionKeyGenerated,
    },
    tokens: { ...tokens, signingKeys: secrets.signingKeys },
    adminToken: secrets.adminToken,
    requireApiKey: ctx.mode === "production",
    delivery: readDelivery(v, ctx),
    redis: readRedis(v, ctx),
    audit: readAudit(v),
    webhooks: readWebhooks(v, ctx.mode),
    console: readConsole(v, ctx),
    fraud: readFraud(v, ctx),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Enforces the rules the variables declare in their metadata: `needs`,
 * `requiredWith`, `requiredInProduction` and `requiredWithRedis`. The
 * reference shows the same rules, from the same metadata.
 */
function checkDeclaredRules(ctx: Context): void {
  for (const area of configAreas) {
    for (const [name, variable] of Object.entries(area.variables)) {
      const meta = metaOf(variable);
      const set = ctx.isSet(name);
      for (const other of meta.needs ?? []) {
        if (set && !ctx.isSet(other)) ctx.problem(name, `needs ${other}`);
      }
      const withOther = meta.requiredWith;
      if (withOther !== undefined && !set && ctx.isSet(withOther.name)) {
        const hint = withOther.hint === undefined ? "" : ` (${withOther.hint})`;
        ctx.problem(name, `required with ${withOther.name}${hint}`);
      }
      if (set) continue;
      if (meta.requiredInProduction !== undefined && ctx.mode === "production") {
        ctx.problem(name, `required when NODE_ENV=production (${meta.requiredInProduction})`);
      } else if (meta.requiredWithRedis !== undefined && ctx.redisConfigured) {
        ctx.problem(name, `required with a Redis store, ${meta.requiredWithRedis}`);
      }
    }
  }
}
