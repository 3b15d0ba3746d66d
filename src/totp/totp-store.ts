// Declared by the domain that uses it (DESIGN.md): store/memory and
// store/redis implement it, and test/contract/store-contract.ts holds both to it.

/** The stored state of an authenticator (TOTP) factor. Its secret is sealed (encrypted). */
export interface TotpFactorRecord {
  id: string;
  /** The tenant that owns the factor; stamped by the tenant-scoped store. */
  tenantId?: string;
  accountName: string;
  issuer: string;
  /** The base32 secret, encrypted with AES-256-GCM; never stored in the clear. */
  sealedSecret: string;
  state: "pending" | "confirmed";
  createdAtMs: number;
  /** The last time step that verified; a step verifies at most once. -1 before the first. */
  lastUsedStep: number;
  /** Wrong codes since the last success or lock-out. */
  failures: number;
  lockedUntilMs: number;
  /** HMACs of the unused recovery codes. */
  recoveryHashes: string[];
  /** When the store may forget the factor: soon for a pending one, refreshed on use for an active one. */
  retainUntilMs: number;
}

/** Input to {@link Store.useTotpStep}. */
export interface UseTotpStepInput {
  step: number;
  nowMs: number;
  /** The state the factor must be in: "pending" for ConfirmTotp, "confirmed" for VerifyTotp. */
  requireState: "pending" | "confirmed";
  /** For ConfirmTotp: the recovery code HMACs to store as the factor becomes active. */
  recoveryHashes?: string[];
  retainUntilMs: number;
}

/** The outcome of a TOTP step in the store. */
export type TotpUseResult =
  | { kind: "ok"; record: TotpFactorRecord }
  | { kind: "replayed" }
  | { kind: "locked"; lockedUntilMs: number }
  | { kind: "wrong_state"; state: "pending" | "confirmed" }
  | { kind: "not_found" };

/** The outcome of counting a wrong TOTP code. */
export type TotpFailureResult =
  | { kind: "counted"; remaining: number; lockedUntilMs: number }
  | { kind: "locked"; lockedUntilMs: number }
  | { kind: "not_found" };

/** The outcome of a recovery code. */
export type TotpRecoveryResult =
  | { kind: "ok"; remaining: number }
  | { kind: "invalid" }
  | { kind: "locked"; lockedUntilMs: number }
  | { kind: "wrong_state"; state: "pending" | "confirmed" }
  | { kind: "not_found" };

/** TOTP factors: a used time step and a failure count change as one step each. */
export interface TotpStore {
  /** Stores a new, pending TOTP factor. */
  createTotpFactor(record: TotpFactorRecord): Promise<void>;
  getTotpFactor(id: string, nowMs: number): Promise<TotpFactorRecord | undefined>;
  /**
   * Records that a right code's time step was used, as one step: refused
   * while locked out, or when the step is not newer than the last one used,
   * so two concurrent submissions of one code give one success.
   */
  useTotpStep(id: string, input: UseTotpStepInput): Promise<TotpUseResult>;
  /** Counts a wrong code; the `maxFailures`-th starts a lock-out of `lockoutMs`. */
  recordTotpFailure(
    id: string,
    input: {
      nowMs: number;
      maxFailures: number;
      lockoutMs: number;
      /** The tenant of the call, for the event a lock-out emits; stores ignore it. */
      tenantId?: string;
    },
  ): Promise<TotpFailureResult>;
  /** Uses up a recovery code if one of `candidateHashes` is unused; each works once. */
  useTotpRecoveryCode(
    id: string,
    input: { candidateHashes: string[]; nowMs: number; retainUntilMs: number },
  ): Promise<TotpRecoveryResult>;
  /** `tenantId`: the tenant of the call, for the event it emits; stores ignore it. */
  deleteTotpFactor(id: string, tenantId?: string): Promise<boolean>;
}
