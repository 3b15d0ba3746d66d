import { randomInt } from "node:crypto";
import { verify as verifyTotpCode } from "otplib";
import type { SecretBox } from "../core/secret-box.js";
import type { TenantScope } from "../core/tenant-scope.js";
import type { CodeHasher } from "../otp/code-hasher.js";
import { isUuid } from "../otp/validate.js";
import { totpErrors } from "./errors.js";
import { type Enrolment, enrollFactor } from "./totp-enrolment.js";
import type { TotpFactorRecord, TotpStore } from "./totp-store.js";

// Enrolment (a new secret, its QR codes) lives in totp-enrolment.ts.
export { type Enrolment, totpLimits } from "./totp-enrolment.js";

/** Options for {@link createTotpService}. */
export interface TotpServiceOptions {
  /** The store of calls without a scope, and of every call unless `scoped` is given. */
  store: TotpStore;
  /** The store as one call's tenant sees it (store/tenant-store.ts). */
  scoped?: (scope: TenantScope) => TotpStore;
  box: SecretBox;
  /** Hashes recovery codes, as it hashes one-time codes. */
  hasher: CodeHasher;
  defaultIssuer: string;
  /** Steps accepted either side of the current one. */
  window: number;
  maxFailures: number;
  lockoutSeconds: number;
  /** How long a pending factor waits for ConfirmTotp. */
  pendingSeconds: number;
  /** How long an active factor is kept after its last use. */
  retentionSeconds: number;
  now?: () => number;
  /** Told when a wrong code locks a factor out (for the audit trail); `tenantId` is the factor's. */
  onLockedOut?: (factorId: string, tenantId: string) => void;
}

/** The outcome of presenting a code. */
export type TotpOutcome = "verified" | "invalid_code" | "replayed" | "locked_out" | "not_confirmed";

/** What ConfirmTotp and VerifyTotp return. */
export interface TotpCheck {
  outcome: TotpOutcome;
  attemptsRemaining: number;
  lockedUntilMs: number;
  recoveryCodes: string[];
  usedRecoveryCode: boolean;
  recoveryCodesRemaining: number;
}

/** Authenticator-app factors: enrolment with proof of possession, checks, recovery codes. */
export interface TotpService {
  /** `scope`, here and below: the caller's tenant, whose factors alone it finds. */
  enroll(input: { accountName: string; issuer: string }, scope?: TenantScope): Promise<Enrolment>;
  confirm(input: { factorId: string; code: string }, scope?: TenantScope): Promise<TotpCheck>;
  verify(input: { factorId: string; code: string }, scope?: TenantScope): Promise<TotpCheck>;
  remove(factorId: string, scope?: TenantScope): Promise<void>;
}

const recoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const period = 30;

// Everything a TOTP operation needs, resolved from the options once.
interface TotpState {
  store: TotpStore;
  box: SecretBox;
  hasher: CodeHasher;
  options: TotpServiceOptions;
  now: () => number;
}

/**
 * Creates the TOTP domain. Secrets are generated here, sealed before they
 * are stored, and opened only to check a code. A code's time step is used
 * at most once, recorded atomically in the store; wrong codes count towards
 * a lock-out, during which even a right code is refused.
 */
export function createTotpService(options: TotpServiceOptions): TotpService {
  const state: TotpState = {
    store: options.store,
    box: options.box,
    hasher: options.hasher,
    options,
    now: options.now ?? Date.now,
  };
  const { scoped } = options;
  const forCall = (scope: TenantScope | undefined): TotpState =>
    scope === undefined || scoped === undefined ? state : { ...state, store: scoped(scope) };
  return {
    enroll: (input, scope) =>
      enrollFactor({ ...options, store: forCall(scope).store, now: state.now }, input),
    confirm: (input, scope) => confirmFactor(forCall(scope), input),
    verify: (input, scope) => verifyFactor(forCall(scope), input),
    async remove(factorId, scope) {
      if (!isUuid(factorId)) throw totpErrors.factorIdInvalid();
      if (!(await forCall(scope).store.deleteTotpFactor(factorId.toLowerCase()))) {
        throw totpErrors.notFound();
      }
    },
  };
}

// Proof of possession: the first right code activates the factor and mints recovery codes.
async function confirmFactor(
  state: TotpState,
  input: { factorId: string; code: string },
): Promise<TotpCheck> {
  const { store, hasher, options, now } = state;
  const code = normalize(input.code);
  const record = await load(state, input.factorId);
  if (record.state === "confirmed") throw totpErrors.alreadyConfirmed();
  const step = await matchStep(state, record, code);
  if (step === undefined) return countFailure(state, record);
  const recoveryCodes = Array.from({ length: 10 }, () => {
    const raw = Array.from({ length: 10 }, () => recoveryAlphabet[randomInt(31)]).join("");
    return `${raw.slice(0, 5)}-${raw.slice(5)}`;
  });
  const used = await store.useTotpStep(record.id, {
    step,
    nowMs: now(),
    requireState: "pending",
    recoveryHashes: recoveryCodes.map((c) => hasher.hash(record.id, `recovery:${normalize(c)}`)),
    retainUntilMs: retainUntil(state),
  });
  switch (used.kind) {
    case "ok":
      return result({
        outcome: "verified",
        attemptsRemaining: options.maxFailures,
        recoveryCodes,
        recoveryCodesRemaining: recoveryCodes.length,
      });
    case "locked":
      return result({ outcome: "locked_out", lockedUntilMs: used.lockedUntilMs });
    case "replayed":
      return result({ outcome: "replayed" });
    case "wrong_state":
      throw totpErrors.alreadyConfirmed();
    case "not_found":
      throw totpErrors.notFound();
  }
}

// A six-digit app code, or else a recovery code.
async function verifyFactor(
  state: TotpState,
  input: { factorId: string; code: string },
): Promise<TotpCheck> {
  const code = normalize(input.code);
  const record = await load(state, input.factorId);
  if (record.state !== "confirmed") return result({ outcome: "not_confirmed" });
  // Not an app code: try it as a recovery code.
  if (!/^\d{6}$/.test(code)) return useRecoveryCode(state, record, code);
  const step = await matchStep(state, record, code);
  if (step === undefined) return countFailure(state, record);
  const used = await state.store.useTotpStep(record.id, {
    step,
    nowMs: state.now(),
    requireState: "confirmed",
    retainUntilMs: retainUntil(state),
  });
  switch (used.kind) {
    case "ok":
      return result({
        outcome: "verified",
        attemptsRemaining: state.options.maxFailures,
        recoveryCodesRemaining: used.record.recoveryHashes.length,
      });
    case "locked":
      return result({ outcome: "locked_out", lockedUntilMs: used.lockedUntilMs });
    case "replayed":
      return result({ outcome: "replayed" });
    case "wrong_state":
      return result({ outcome: "not_confirmed" });
    case "not_found":
      throw totpErrors.notFound();
  }
}

async function useRecoveryCode(
  state: TotpState,
  record: TotpFactorRecord,
  code: string,
): Promise<TotpCheck> {
  const used = await state.store.useTotpRecoveryCode(record.id, {
    candidateHashes: state.hasher.candidates(record.id, `recovery:${code}`),
    nowMs: state.now(),
    retainUntilMs: retainUntil(state),
  });
  switch (used.kind) {
    case "ok":
      return result({
        outcome: "verified",
        usedRecoveryCode: true,
        recoveryCodesRemaining: used.remaining,
        attemptsRemaining: state.options.maxFailures,
      });
    case "locked":
      return result({ outcome: "locked_out", lockedUntilMs: used.lockedUntilMs });
    case "wrong_state":
      return result({ outcome: "not_confirmed" });
    case "not_found":
      throw totpErrors.notFound();
    case "invalid":
      return countFailure(state, record);
  }
}

function result(partial: Partial<TotpCheck> & { outcome: TotpOutcome }): TotpCheck {
  return {
    attemptsRemaining: 0,
    lockedUntilMs: 0,
    recoveryCodes: [],
    usedRecoveryCode: false,
    recoveryCodesRemaining: 0,
    ...partial,
  };
}

async function load({ store, now }: TotpState, factorId: string): Promise<TotpFactorRecord> {
  if (!isUuid(factorId)) throw totpErrors.factorIdInvalid();
  const record = await store.getTotpFactor(factorId.toLowerCase(), now());
  if (record === undefined) throw totpErrors.notFound();
  return record;
}

// Finds the time step a code belongs to within the window, or undefined.
async function matchStep(
  { box, options, now }: TotpState,
  record: TotpFactorRecord,
  code: string,
): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined;
  const secret = box.open(record.sealedSecret, record.id);
  const checked = await verifyTotpCode({
    secret,
    token: code,
    epoch: Math.floor(now() / 1000),
    epochTolerance: options.window * period,
  });
  return checked.valid ? (checked as { timeStep: number }).timeStep : undefined;
}

async function countFailure(
  { store, options, now }: TotpState,
  record: TotpFactorRecord,
): Promise<TotpCheck> {
  const counted = await store.recordTotpFailure(record.id, {
    nowMs: now(),
    maxFailures: options.maxFailures,
    lockoutMs: options.lockoutSeconds * 1000,
  });
  switch (counted.kind) {
    case "not_found":
      throw totpErrors.notFound();
    case "locked":
      return result({ outcome: "locked_out", lockedUntilMs: counted.lockedUntilMs });
    case "counted":
      if (counted.lockedUntilMs > 0) {
        // This failure started the lock-out.
        options.onLockedOut?.(record.id, record.tenantId ?? "");
        return result({ outcome: "locked_out", lockedUntilMs: counted.lockedUntilMs });
      }
      return result({ outcome: "invalid_code", attemptsRemaining: counted.remaining });
  }
}

function normalize(code: string): string {
  if (code.trim() === "" || code.length > 64) throw totpErrors.codeInvalid();
  return code.replace(/[\s-]/g, "").toUpperCase();
}

function retainUntil({ options, now }: TotpState): number {
  return now() + options.retentionSeconds * 1000;
}
