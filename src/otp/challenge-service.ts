import { newTenantScope, type TenantScope } from "../core/tenant-scope.js";
import type { Dispatcher } from "../delivery/dispatcher.js";
import { openRecipientPolicy } from "../delivery/recipients.js";
import type { TargetRules } from "../delivery/targets.js";
import type { EffectiveSettings } from "../tenancy/effective-settings.js";
import type { LimitStore, RateLimit } from "../tenancy/limit-store.js";
import type { ChallengeDeps, CodeSeal } from "./challenge-deps.js";
import type { ChallengeStore, DeliveryAttemptRecord } from "./challenge-store.js";
import type {
  CallLimits,
  ChallengeStatusName,
  ChallengeView,
  ExpiryWithdrawals,
  IssuedCode,
  OtpObserver,
  VerifyInput,
  VerifyResult,
} from "./challenge-types.js";
import type { CodeHasher } from "./code-hasher.js";
import { type FallbackTimer, type FallbackTimers, runFallback } from "./fallback.js";
import { generateChallenge } from "./generate.js";
import { cancelChallenge, getChallenge } from "./get-and-cancel.js";
import { resendChallenge } from "./replace-code.js";
import type { GenerateInput } from "./validate.js";
import { verifyChallenge } from "./verify.js";

// Each call is a function of its own over one ChallengeDeps: generate.ts
// (with idempotent replay and the first send), verify.ts, replace-code.ts
// (Resend), get-and-cancel.ts; send-code.ts sends to the targets and
// challenge-view.ts shapes the answers. This module is the contract and the wiring.
export type {
  CallLimits,
  ChallengeStatusName,
  ChallengeView,
  IssuedCode,
  OtpObserver,
  VerifyInput,
  VerifyResult,
} from "./challenge-types.js";

/** Options for {@link createChallengeService}. */
export interface ChallengeServiceOptions {
  /** The store of calls without a scope, and of every call unless `scoped` is given. */
  store: ChallengeStore;
  /**
   * The store as one call's tenant sees it (store/tenant-store.ts), for the
   * calls that carry a scope (`CallLimits.scope`); it also charges the
   * limits of Verify by recipient when `limitStore` is given.
   */
  scoped?: (scope: TenantScope) => ChallengeStore & LimitStore;
  hasher: CodeHasher;
  dispatcher: Dispatcher;
  /**
   * Which recipients this service sends to, and defaults for targets; by
   * default any valid recipient on a channel the dispatcher has.
   */
  targetRules?: Omit<TargetRules, "usable">;
  /** Minimum seconds between two codes for one challenge. */
  resendCooldownSeconds: number;
  /** The most codes one challenge may have, the first included. */
  maxSends: number;
  /** How long a challenge stays readable after its code expires, in seconds. */
  retentionSeconds: number;
  /** Verify calls per challenge, counted before the challenge is looked up. */
  verifyPerChallenge?: RateLimit | "off";
  /** Lets Verify by recipient charge its limits in the same trip as its index read. */
  limitStore?: LimitStore;
  now?: () => number;
  observer?: OtpObserver;
  /**
   * Seals codes so Resend sends the same code again while it is valid; without
   * it (or with `newCodePerSend`) every send gets a new code.
   */
  codeSeal?: CodeSeal;
  /** A new code for every Resend instead of the same code while it is valid. */
  newCodePerSend?: boolean;
  /** Where fallbacks on silence wait (targets' `fallbackAfterSeconds`); needs `codeSeal`. */
  fallbackTimers?: FallbackTimers;
  /** Timers that withdraw messages when their code expires unused. */
  expiryWithdrawals?: ExpiryWithdrawals;
}

/** The OTP domain: issues, checks, describes, cancels and re-issues codes. */
export interface ChallengeService {
  generate(input: GenerateInput, limits?: CallLimits): Promise<IssuedCode>;
  verify(input: VerifyInput, limits?: CallLimits): Promise<VerifyResult>;
  /** `scope`: the caller's tenant, whose challenges alone it finds. */
  get(id: string, scope?: TenantScope): Promise<ChallengeView>;
  cancel(id: string, scope?: TenantScope): Promise<ChallengeStatusName>;
  resend(id: string, limits?: CallLimits): Promise<IssuedCode>;
  /** Acts on a fallback timer that came due (see fallback.ts), as the timer's tenant. */
  runFallback(
    timer: FallbackTimer,
    settings?: EffectiveSettings,
  ): Promise<DeliveryAttemptRecord[] | undefined>;
}

/**
 * Creates the OTP domain over a store, a code hasher and a delivery
 * dispatcher. It speaks plain types; handlers translate to and from protobuf.
 */
export function createChallengeService(options: ChallengeServiceOptions): ChallengeService {
  const deps = challengeDeps(options);
  const { scoped } = options;
  // A call's deps: the shared ones with its scope and its tenant's store on
  // top, one small object per call (no AsyncLocalStorage: see core/tenant-scope.ts).
  const forCall = (scope: TenantScope | undefined): ChallengeDeps => {
    if (scope === undefined) return deps;
    const call: ChallengeDeps = Object.create(deps);
    call.scope = scope;
    if (scoped !== undefined) {
      const store = scoped(scope);
      call.store = store;
      if (deps.limits !== undefined) call.limits = store;
    }
    return call;
  };
  // Each method hands its call straight on: no extra await per call.
  return {
    generate: (raw, limits = {}) => generateChallenge(forCall(limits.scope), raw, limits),
    verify: (input, limits = {}) => verifyChallenge(forCall(limits.scope), input, limits),
    get: (rawId, scope) => getChallenge(forCall(scope), rawId),
    cancel: (rawId, scope) => cancelChallenge(forCall(scope), rawId),
    resend: (rawId, limits = {}) => resendChallenge(forCall(limits.scope), rawId, limits),
    runFallback: (timer, settings) =>
      runFallback(forCall(newTenantScope(timer.tenantId)), timer, settings),
  };
}

// The options resolved once: defaults filled in, seconds made milliseconds.
function challengeDeps(options: ChallengeServiceOptions): ChallengeDeps {
  const { store, hasher, dispatcher } = options;
  return {
    store,
    scope: undefined,
    hasher,
    dispatcher,
    rules: {
      recipients: options.targetRules?.recipients ?? openRecipientPolicy,
      telegramSelfDestructDefaultSeconds:
        options.targetRules?.telegramSelfDestructDefaultSeconds ?? 0,
      usable: (channel) => dispatcher.has(channel),
    },
    now: options.now ?? Date.now,
    cooldownMs: options.resendCooldownSeconds * 1000,
    retentionMs: options.retentionSeconds * 1000,
    maxSends: options.maxSends,
    verifyPerChallenge: options.verifyPerChallenge ?? "off",
    observer: options.observer,
    geoReport: options.observer?.geoReported?.bind(options.observer),
    limits: options.limitStore,
    codeSeal: options.codeSeal,
    newCodePerSend: options.newCodePerSend ?? false,
    fallbackTimers: options.fallbackTimers,
    expiryWithdrawals: options.expiryWithdrawals,
  };
}
