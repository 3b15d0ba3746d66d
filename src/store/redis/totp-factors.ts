import type {
  TotpFactorRecord,
  TotpFailureResult,
  TotpRecoveryResult,
  TotpStore,
} from "../../totp/totp-store.js";
import { type RedisContext, type Reply, type ScriptName, unavailable } from "./redis-context.js";

/** TOTP factors: a hash and a recovery set each, sharing a hash tag: one slot, one script. */
export function createRedisTotpFactors(ctx: RedisContext) {
  const { topology, keyPrefix, run } = ctx;
  const factorClient = (id: string) => topology.forKey(`totp:${id}`);
  const onFactor = (id: string, script: ScriptName, args: string[]) =>
    run(factorClient(id), script, factorKeys(keyPrefix, id), args);
  const store: TotpStore = {
    async createTotpFactor(record: TotpFactorRecord) {
      const [key] = factorKeys(keyPrefix, record.id);
      await run(factorClient(record.id), "otpTotpCreate", key, [
        String(record.retainUntilMs),
        ...factorFields(record),
      ]);
    },
    async getTotpFactor(id: string, nowMs: number) {
      const [key, recoveryKey] = factorKeys(keyPrefix, id);
      const client = factorClient(id);
      let fields: Record<string, string>;
      let recovery: string[];
      try {
        [fields, recovery] = await Promise.all([client.hgetall(key), client.smembers(recoveryKey)]);
      } catch (err) {
        throw unavailable(err);
      }
      if (Object.keys(fields).length === 0) return undefined;
      const record = factorFrom(id, fields, recovery);
      return nowMs >= record.retainUntilMs ? undefined : record;
    },
    async useTotpStep(id, input) {
      const reply = await onFactor(id, "otpTotpUseStep", [
        String(input.nowMs),
        String(input.step),
        input.requireState,
        String(input.retainUntilMs),
        ...(input.recoveryHashes ?? []),
      ]);
      switch (reply[0]) {
        case "ok": {
          const record = await store.getTotpFactor(id, input.nowMs);
          return record === undefined ? { kind: "not_found" } : { kind: "ok", record };
        }
        case "locked":
          return { kind: "locked", lockedUntilMs: Number(reply[1]) };
        case "wrong_state":
          return { kind: "wrong_state", state: stateFrom(reply[1]) };
        case "replayed":
          return { kind: "replayed" };
        default:
          return { kind: "not_found" };
      }
    },
    async recordTotpFailure(id, input) {
      const [key] = factorKeys(keyPrefix, id);
      const reply = await run(factorClient(id), "otpTotpFailure", key, [
        String(input.nowMs),
        String(input.maxFailures),
        String(input.nowMs + input.lockoutMs),
      ]);
      return failureResult(reply);
    },
    async useTotpRecoveryCode(id, input) {
      const reply = await onFactor(id, "otpTotpRecovery", [
        String(input.nowMs),
        String(input.retainUntilMs),
        ...input.candidateHashes,
      ]);
      return recoveryResult(reply);
    },
    async deleteTotpFactor(id: string) {
      try {
        return (await factorClient(id).del(...factorKeys(keyPrefix, id))) > 0;
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
  return store;
}

/** A factor's hash and its recovery set, sharing the hash tag of its id. */
function factorKeys(keyPrefix: string, id: string): [string, string] {
  return [`${keyPrefix}totp:{${id}}`, `${keyPrefix}totp:{${id}}:recovery`];
}

/** A factor as hash field and value pairs (its recovery hashes live in their own set). */
function factorFields(record: TotpFactorRecord): string[] {
  return [
    "account_name",
    record.accountName,
    "tenant",
    record.tenantId ?? "",
    "issuer",
    record.issuer,
    "sealed_secret",
    record.sealedSecret,
    "state",
    record.state,
    "created_at",
    String(record.createdAtMs),
    "last_used_step",
    String(record.lastUsedStep),
    "failures",
    String(record.failures),
    "locked_until",
    String(record.lockedUntilMs),
    "retain_until",
    String(record.retainUntilMs),
  ];
}

/** A factor read back from its hash and recovery set. */
function factorFrom(
  id: string,
  fields: Record<string, string>,
  recovery: string[],
): TotpFactorRecord {
  const num = (name: string) => Number(fields[name] ?? "0");
  return {
    id,
    ...(fields.tenant ? { tenantId: fields.tenant } : {}),
    accountName: fields.account_name ?? "",
    issuer: fields.issuer ?? "",
    sealedSecret: fields.sealed_secret ?? "",
    state: fields.state === "confirmed" ? "confirmed" : "pending",
    createdAtMs: num("created_at"),
    lastUsedStep: num("last_used_step"),
    failures: num("failures"),
    lockedUntilMs: num("locked_until"),
    recoveryHashes: recovery,
    retainUntilMs: num("retain_until"),
  };
}

const stateFrom = (state: string | undefined) => (state === "confirmed" ? "confirmed" : "pending");

/** The failure script's reply as a result. */
function failureResult(reply: Reply): TotpFailureResult {
  switch (reply[0]) {
    case "counted":
      return { kind: "counted", remaining: Number(reply[1]), lockedUntilMs: Number(reply[2]) };
    case "locked":
      return { kind: "locked", lockedUntilMs: Number(reply[1]) };
    default:
      return { kind: "not_found" };
  }
}

/** The recovery script's reply as a result. */
function recoveryResult(reply: Reply): TotpRecoveryResult {
  switch (reply[0]) {
    case "ok":
      return { kind: "ok", remaining: Number(reply[1]) };
    case "invalid":
      return { kind: "invalid" };
    case "locked":
      return { kind: "locked", lockedUntilMs: Number(reply[1]) };
    case "wrong_state":
      return { kind: "wrong_state", state: stateFrom(reply[1]) };
    default:
      return { kind: "not_found" };
  }
}
