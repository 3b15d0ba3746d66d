import type { ChannelKind } from "../core/channel-kind.js";
import type {
  DeliveryEventRecord,
  DeliveryRecord,
  DeliveryStore,
  OutboxEntry,
  OutboxFilter,
  OutboxStore,
} from "../delivery/delivery-store.js";
import type {
  ChallengeRecord,
  ChallengeStore,
  CreateChallengeInput,
  CreateChallengeResult,
  DeliveryAttemptRecord,
  ReplaceCodeInput,
  ReplaceCodeResult,
  TargetRecord,
  VerifyInput,
  VerifyOutcome,
  VerifyStepResult,
} from "../otp/challenge-store.js";
import type {
  CallCharges,
  ConsumeOptions,
  LimitCharge,
  LimitRefusal,
  LimitStore,
  RateLimit,
  RateLimitResult,
  UsageCharge,
  UsageStore,
} from "../tenancy/limit-store.js";
import type {
  TotpFactorRecord,
  TotpFailureResult,
  TotpRecoveryResult,
  TotpStore,
  TotpUseResult,
  UseTotpStepInput,
} from "../totp/totp-store.js";

// The record types live with the domains that declare them; the store
// implementations name them from here.
export type {
  CallCharges,
  ChallengeRecord,
  ChannelKind,
  ConsumeOptions,
  CreateChallengeInput,
  CreateChallengeResult,
  DeliveryAttemptRecord,
  DeliveryEventRecord,
  DeliveryRecord,
  LimitCharge,
  LimitRefusal,
  OutboxEntry,
  OutboxFilter,
  RateLimit,
  RateLimitResult,
  ReplaceCodeInput,
  ReplaceCodeResult,
  TargetRecord,
  TotpFactorRecord,
  TotpFailureResult,
  TotpRecoveryResult,
  TotpUseResult,
  UsageCharge,
  UseTotpStepInput,
  VerifyInput,
  VerifyOutcome,
  VerifyStepResult,
};

/**
 * All state of the service: every interface the domains declare, implemented
 * once in memory (store/memory/) and once in Redis (store/redis/). Every
 * method is one atomic step: concurrent calls never see or leave a half-made
 * change, and every record expires.
 */
export interface Store
  extends ChallengeStore,
    LimitStore,
    UsageStore,
    DeliveryStore,
    OutboxStore,
    TotpStore {
  /** A short name for banners and logs, for example "memory". */
  readonly description: string;
  /**
   * Resolves when the store can serve every call: every shard, or every
   * master of a Cluster with all slots covered, answers. Rejects otherwise,
   * so readiness fails while any share of the records is out of reach.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}
