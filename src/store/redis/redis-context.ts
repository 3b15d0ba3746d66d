import { OtpError } from "../../core/otp-error.js";
import type { RecipientVault } from "../../core/recipient-vault.js";
import { StoreUnavailableError } from "../../core/store-unavailable.js";
import { createRecipientCodec, type RecipientCodec } from "./recipient-codec.js";
import { evalScript, luaScript } from "./script-command.js";
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

/** The context every record kind of the Redis store shares. */
export function createRedisContext(options: {
  topology: RedisTopology;
  keyPrefix: string;
  vault: RecipientVault;
}): RedisContext {
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
  otpCreate: luaScript(createScript),
  otpVerify: luaScript(verifyScript),
  otpCancel: luaScript(cancelScript),
  otpReplaceCode: luaScript(replaceCodeScript),
  otpFallbackClaim: luaScript(fallbackClaimScript),
  otpSetDeliveryAttempts: luaScript(setDeliveryAttemptsScript),
  otpAppendOutbox: luaScript(appendOutboxScript),
  otpTotpCreate: luaScript(totpCreateScript),
  otpTotpUseStep: luaScript(totpUseStepScript),
  otpTotpFailure: luaScript(totpFailureScript),
  otpTotpRecovery: luaScript(totpRecoveryScript),
  otpDeliveryCreate: luaScript(deliveryCreateScript),
  otpDeliveryEvent: luaScript(deliveryEventScript),
  otpLimit: luaScript(limitScript),
  otpRefund: luaScript(refundScript),
} as const;
export type ScriptName = keyof typeof scripts;

/** Runs one of our scripts by name on `client`, by its SHA-1 (see script-command.ts). */
export function callScript(
  client: RedisClient,
  name: ScriptName,
  keys: string | readonly string[],
  args: readonly string[],
): Promise<unknown> {
  return evalScript(client, scripts[name], typeof keys === "string" ? [keys] : keys, args);
}

/** A Redis failure as the error callers see: `STORE_UNAVAILABLE`, marked when the node is out of reach. */
export function unavailable(err: unknown): OtpError {
  if (err instanceof OtpError) return err;
  return new StoreUnavailableError({ cause: err, unreachable: isUnreachableError(err) });
}
