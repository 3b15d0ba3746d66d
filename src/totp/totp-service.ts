import { randomInt, randomUUID } from "node:crypto";
import { generateSecret, generateURI, verify as verifyTotpCode } from "otplib";
import { boundedText } from "../core/bounded-text.js";
import type { SecretBox } from "../core/secret-box.js";
import type { CodeHasher } from "../otp/code-hasher.js";
import { isUuid } from "../otp/validate.js";
import { totpErrors } from "./errors.js";
import type { TotpFactorRecord, TotpStore } from "./totp-store.js";

/** The bounds of the names an enrolment stores; ':' would split the otpauth label. */
export const totpLimits = {
  accountName: { min: 1, max: 128, forbid: /:/ },
  issuer: { min: 0, max: 64, forbid: /:/ },
} as const;

/** Options for {@link createTotpService}. */
export interface TotpServiceOptions {
  store: TotpStore;
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
}

/** The outcome of presenting a code. */
export type TotpOutcome = "verified" | "invalid_code" | "replayed" | "locked_out" | "not_confirmed";

/** What EnrollTotp returns. */
export interface Enrolment {
  factorId: string;
  otpauthUri: string;
  qrCodeSvg: string;
  qrCodePngDataUrl: string;
  secret: string;
  confirmBeforeMs: number;
}

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
  enroll(input: { accountName: string; issuer: string }): Promise<Enrolment>;
  confirm(input: { factorId: string; code: string }): Promise<TotpCheck>;
  verify(input: { factorId: string; code: string }): Promise<TotpCheck>;
  remove(factorId: string): Promise<void>;
}

const recoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const period = 30;

/**
 * Creates the TOTP domain. Secrets are generated here, sealed before they
 * are stored, and opened only to check a code. A code's time step is used
 * at most once, recorded atomically in the store; wrong codes count towards
 * a lock-out, during which even a right code is refused.
 */
export function createTotpService(options: TotpServiceOptions): TotpService {
  const { store, box, hasher } = options;
  const now = options.now ?? Date.now;
  const lockoutMs = options.lockoutSeconds * 1000;

  const result = (partial: Partial<TotpCheck> & { outcome: TotpOutcome }): TotpCheck => ({
    attemptsRemaining: 0,
    lockedUntilMs: 0,
    recoveryCodes: [],
    usedRecoveryCode: false,
    recoveryCodesRemaining: 0,
    ...partial,
  });

  const load = async (factorId: string): Promise<TotpFactorRecord> => {
    if (!isUuid(factorId)) throw totpErrors.factorIdInvalid();
    const record = await store.getTotpFactor(factorId.toLowerCase(), now());
    if (record === undefined) throw totpErrors.notFound();
    return record;
  };

  // Finds the time step a code belongs to within the window, or undefined.
  const matchStep = async (record: TotpFactorRecord, code: string) => {
    if (!/^\d{6}$/.test(code)) return undefined;
    const secret = box.open(record.sealedSecret, record.id);
    const checked = await verifyTotpCode({
      secret,
      token: code,
      epoch: Math.floor(now() / 1000),
      epochTolerance: options.window * period,
    });
    return checked.valid ? (checked as { timeStep: number }).timeStep : undefined;
  };

  const failure = async (record: TotpFactorRecord): Promise<TotpCheck> => {
    const counted = await store.recordTotpFailure(record.id, {
      nowMs: now(),
      maxFailures: options.maxFailures,
      lockoutMs,
    });
    switch (counted.kind) {
      case "not_found":
        throw totpErrors.notFound();
      case "locked":
        return result({ outcome: "locked_out", lockedUntilMs: counted.lockedUntilMs });
      case "counted":
        return counted.lockedUntilMs > 0
          ? result({ outcome: "locked_out", lockedUntilMs: counted.lockedUntilMs })
          : result({ outcome: "invalid_code", attemptsRemaining: counted.remaining });
    }
  };

  const normalize = (code: string) => {
    if (code.trim() === "" || code.length > 64) throw totpErrors.codeInvalid();
    return code.replace(/[\s-]/g, "").toUpperCase();
  };

  const retainUntil = () => now() + options.retentionSeconds * 1000;

  return {
    async enroll(input) {
      const accountName = boundedText(input.accountName, totpLimits.accountName);
      if (accountName === undefined) throw totpErrors.accountNameInvalid();
      // An empty issuer takes the configured default; a given one obeys the same bounds.
      const given = boundedText(input.issuer, totpLimits.issuer);
      if (given === undefined) throw totpErrors.issuerInvalid();
      const issuer = given === "" ? options.defaultIssuer : given;
      const id = randomUUID();
      const secret = generateSecret();
      const otpauthUri = generateURI({ issuer, label: accountName, secret });
      const createdAtMs = now();
      const confirmBeforeMs = createdAtMs + options.pendingSeconds * 1000;
      await store.createTotpFactor({
        id,
        accountName,
        issuer,
        sealedSecret: box.seal(secret, id),
        state: "pending",
        createdAtMs,
        lastUsedStep: -1,
        failures: 0,
        lockedUntilMs: 0,
        recoveryHashes: [],
        retainUntilMs: confirmBeforeMs,
      });
      // Loaded on the first enrolment: QR rendering is rare, and its memory is not small.
      const { default: QRCode } = await import("qrcode");
      const [qrCodeSvg, qrCodePngDataUrl] = await Promise.all([
        QRCode.toString(otpauthUri, { type: "svg", errorCorrectionLevel: "M" }),
        QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: "M" }),
      ]);
      return { factorId: id, otpauthUri, qrCodeSvg, qrCodePngDataUrl, secret, confirmBeforeMs };
    },

    async confirm(input) {
      const code = normalize(input.code);
      const record = await load(input.factorId);
      if (record.state === "confirmed") throw totpErrors.alreadyConfirmed();
      const step = await matchStep(record, code);
      if (step === undefined) return failure(record);
      const recoveryCodes = Array.from({ length: 10 }, () => {
        const raw = Array.from({ length: 10 }, () => recoveryAlphabet[randomInt(31)]).join("");
        return `${raw.slice(0, 5)}-${raw.slice(5)}`;
      });
      const used = await store.useTotpStep(record.id, {
        step,
        nowMs: now(),
        requireState: "pending",
        recoveryHashes: recoveryCodes.map((c) =>
          hasher.hash(record.id, `recovery:${normalize(c)}`),
        ),
        retainUntilMs: retainUntil(),
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
    },

    async verify(input) {
      const code = normalize(input.code);
      const record = await load(input.factorId);
      if (record.state !== "confirmed") return result({ outcome: "not_confirmed" });
      if (!/^\d{6}$/.test(code)) {
        // Not an app code: try it as a recovery code.
        const used = await store.useTotpRecoveryCode(record.id, {
          candidateHashes: hasher.candidates(record.id, `recovery:${code}`),
          nowMs: now(),
          retainUntilMs: retainUntil(),
        });
        switch (used.kind) {
          case "ok":
            return result({
              outcome: "verified",
              usedRecoveryCode: true,
              recoveryCodesRemaining: used.remaining,
              attemptsRemaining: options.maxFailures,
            });
          case "locked":
            return result({ outcome: "locked_out", lockedUntilMs: used.lockedUntilMs });
          case "wrong_state":
            return result({ outcome: "not_confirmed" });
          case "not_found":
            throw totpErrors.notFound();
          case "invalid":
            return failure(record);
        }
      }
      const step = await matchStep(record, code);
      if (step === undefined) return failure(record);
      const used = await store.useTotpStep(record.id, {
        step,
        nowMs: now(),
        requireState: "confirmed",
        retainUntilMs: retainUntil(),
      });
      switch (used.kind) {
        case "ok":
          return result({
            outcome: "verified",
            attemptsRemaining: options.maxFailures,
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
    },

    async remove(factorId) {
      if (!isUuid(factorId)) throw totpErrors.factorIdInvalid();
      if (!(await store.deleteTotpFactor(factorId.toLowerCase()))) throw totpErrors.notFound();
    },
  };
}
