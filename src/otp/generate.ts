import { randomUUID } from "node:crypto";
import { idempotencySpace } from "../core/tenant-scope.js";
import { bindingHash, canonicalJson, type JsonValue } from "./binding-hash.js";
import { type ChallengeDeps, rateLimitedBy } from "./challenge-deps.js";
import type { ChallengeRecord } from "./challenge-store.js";
import type { CallLimits, IssuedCode } from "./challenge-types.js";
import { issuedCode } from "./challenge-view.js";
import type { CodeHasher } from "./code-hasher.js";
import { otpErrors } from "./errors.js";
import { recipientIndexKey } from "./recipient-index.js";
import { newCode, replaceCode } from "./replace-code.js";
import { sendOrFail } from "./send-code.js";
import { type GenerateInput, type ValidGenerateInput, validateGenerate } from "./validate.js";

/**
 * Generate: validates the request, creates the challenge in one store step
 * (charged against `limits.charges` in that same step) and sends its first
 * code. A repeated idempotency key answers as the first call did.
 */
export async function generateChallenge(
  deps: ChallengeDeps,
  raw: GenerateInput,
  limits: CallLimits,
): Promise<IssuedCode> {
  const { hasher } = deps;
  const input = validateGenerate(raw, deps.rules, limits.settings, geoReportOf(deps, limits));
  const nowMs = deps.now();
  const id =
    input.idempotencyKey === ""
      ? randomUUID()
      : hasher.idForIdempotencyKey(input.idempotencyKey, idempotencySpace(deps.scope));
  const { code, codeHmac } = newCode(hasher, { id, ...input });
  const record = firstRecord(deps, input, id, codeHmac, nowMs);
  // Kept sealed for Resend to send the same code again; nothing to resend without targets.
  if (deps.codeSeal !== undefined && input.targets.length > 0) {
    record.sealedCode = deps.codeSeal.seal(id, code);
  }
  const created = await deps.store.createChallenge({
    record,
    ...(limits.charges === undefined ? {} : { charges: limits.charges }),
    // Verify may name a recipient instead of the id: the latest challenge sent to it.
    ...(record.targets.length === 0
      ? {}
      : {
          recipientIndex: record.targets.map((t) =>
            recipientIndexKey(hasher, deps.scope, t.channel, t.recipient),
          ),
        }),
  });
  if (created.kind === "refused") throw rateLimitedBy(deps, created.refusal);
  if (created.kind === "conflict") throw otpErrors.idempotencyKeyConflict();
  if (created.kind === "replay") {
    const prior = created.record;
    // A delivered code reached its recipient already: answer as the first call did.
    if (prior.targets.length > 0) return issuedCode(deps, prior, "");
    // The caller never saw the first code; the only safe answer is a fresh one.
    const replaced = await replaceCode(deps, prior.id, 0);
    return issuedCode(deps, replaced.record, replaced.code);
  }
  deps.observer?.generated(input.alphabet, record);
  return sendOrFail(deps, record, code, true, limits);
}

// What a tenant's report-only geo permission reports to: made only for such a tenant.
function geoReportOf(deps: ChallengeDeps, limits: CallLimits) {
  const report = deps.geoReport;
  if (report === undefined || limits.settings?.geoReportOnly !== true) return undefined;
  const tenantId = deps.scope?.tenantId ?? "default";
  return (channel: string, country: string) => report(channel, country, tenantId);
}

// A challenge as Generate creates it: pending, no attempt made, its first code sent now.
function firstRecord(
  deps: ChallengeDeps,
  input: ValidGenerateInput,
  id: string,
  codeHmac: string,
  nowMs: number,
): ChallengeRecord {
  const expiresAtMs = nowMs + input.ttlSeconds * 1000;
  return {
    id,
    codeHmac,
    bindingHash: bindingHash(input.binding),
    alphabet: input.alphabet,
    codeLength: input.codeLength,
    ttlSeconds: input.ttlSeconds,
    maxAttempts: input.maxAttempts,
    attempts: 0,
    state: "pending",
    createdAtMs: nowMs,
    expiresAtMs,
    verifiedAtMs: 0,
    sends: 1,
    lastSentAtMs: nowMs,
    retainUntilMs: expiresAtMs + deps.retentionMs,
    targets: input.targets,
    deliveryAttempts: [],
    // The call's tenant: what the store stamps anyway, and the observer reads.
    ...(deps.scope === undefined ? {} : { tenantId: deps.scope.tenantId }),
    ...(input.locale === "" ? {} : { locale: input.locale }),
    idempotencyFingerprint: input.idempotencyKey === "" ? "" : fingerprint(deps.hasher, input),
  };
}

// Two requests with one idempotency key must ask for the same thing. Keyed,
// because the request holds the recipients: a plain SHA-256 of it would be
// reversed by trying every phone number.
function fingerprint(hasher: CodeHasher, input: ValidGenerateInput): string {
  const { idempotencyKey: _key, ...rest } = input;
  return hasher.digest("generate-request", canonicalJson(rest as unknown as JsonValue));
}
