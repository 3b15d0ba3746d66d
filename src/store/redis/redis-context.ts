import { OtpError } from "../../core/otp-error.js";
import type { RecipientVault } from "../../core/recipient-vault.js";
import { StoreUnavailableError } from "../../core/store-unavailable.js";
import { createRecipientCodec, type RecipientCodec } from "./recipient-codec.js";
import {
  appendOutboxScript,
  cancelScript,
  createScript,
  deliveryCreateScript,
  deliveryEventScript,
  fallbackClaimScript,
  limitScript,
  refundScript,
  replaceCodeScript,
  setDeliveryAttemptsScript,
  totpCreateScript,
  totpFailureScript,
  totpRecoveryScript,
  totpUseStepScript,
  verifyScript,
} from "./scripts.js";
import type { RedisClient, RedisTopology } from "./topology.js";
import { isUnreachableError } from "./unreachable.js";

/** A script's reply, as the record modules read it. */
export type Reply = string[];

/** What every record kind of the Redis store shares: where keys live, how scripts run, how recipients are sealed. */
export interface RedisContext {
  topology: RedisTopology;
  /** Namespaces every key, for example "otp:". */
  keyPrefix: string;
  vault: RecipientVault;
  codec: RecipientCodec;
  /** Runs one of our scripts; a Redis failure becomes `STORE_UNAVAILABLE`. */
  run(
    client: RedisClient,
    script: ScriptName,
    keys: string | string[],
    args: string[],
  ): Promise<Reply>;
}

/** Defines the scripts on every connection and builds the shared context. */
export function createRedisContext(options: {
  topology: RedisTopology;
  keyPrefix: string;
  vault: RecipientVault;
}): RedisContext {
  for (const client of options.topology.clients) defineScripts(client);
  return {
    ...options,
    codec: createRecipientCodec(options.vault),
    async run(client, script, keys, args) {
      try {
        return (await callScript(client, script, keys, args)) as Reply;
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
}

const scripts = {
  otpCreate: createScript,
  otpVerify: verifyScript,
  otpCancel: cancelScript,
  otpReplaceCode: replaceCodeScript,
  otpFallbackClaim: fallbackClaimScript,
  otpSetDeliveryAttempts: setDeliveryAttemptsScript,
  otpAppendOutbox: appendOutboxScript,
  otpTotpCreate: totpCreateScript,
  otpTotpUseStep: totpUseStepScript,
  otpTotpFailure: totpFailureScript,
  otpTotpRecovery: totpRecoveryScript,
  otpDeliveryCreate: deliveryCreateScript,
  otpDeliveryEvent: deliveryEventScript,
  otpLimit: limitScript,
  otpRefund: refundScript,
} as const;
export type ScriptName = keyof typeof scripts;

// ioredis sends each script by SHA and falls back to EVAL when Redis lacks it.
// Scripts that touch a factor and its recovery set take two keys; the rest one.
const twoKeyScripts = new Set<ScriptName>([
  "otpTotpUseStep",
  "otpTotpRecovery",
  "otpDeliveryCreate",
  "otpDeliveryEvent",
]);

// The hot path's scripts take the challenge, then the counters charged with it.
const variableKeyScripts = new Set<ScriptName>(["otpCreate", "otpVerify"]);

function defineScripts(client: RedisClient): void {
  for (const [name, lua] of Object.entries(scripts)) {
    const script = name as ScriptName;
    client.defineCommand(
      name,
      variableKeyScripts.has(script)
        ? { lua }
        : { numberOfKeys: twoKeyScripts.has(script) ? 2 : 1, lua },
    );
  }
}

/** Runs a script by name on a connection it was defined on. */
export function callScript(
  client: RedisClient,
  name: ScriptName,
  keys: string | string[],
  args: string[],
): Promise<unknown> {
  const command = (client as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[name];
  if (command === undefined) throw new Error(`script ${name} is not defined`);
  const keyList = typeof keys === "string" ? [keys] : keys;
  // A script without a fixed key count takes the count first.
  if (variableKeyScripts.has(name)) {
    return command.call(client, String(keyList.length), ...keyList, ...args);
  }
  return command.call(client, ...keyList, ...args);
}

/** A Redis failure as the error callers see: `STORE_UNAVAILABLE`, marked when the node is out of reach. */
export function unavailable(err: unknown): OtpError {
  if (err instanceof OtpError) return err;
  return new StoreUnavailableError({ cause: err, unreachable: isUnreachableError(err) });
}
