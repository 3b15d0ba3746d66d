import type { Config } from "../config/index.js";
import type { RecipientVault } from "../core/recipient-vault.js";
import type { CodeHasher } from "../otp/code-hasher.js";
import type { Store } from "../store/store.js";
import type { TenantStores } from "../store/tenant-store.js";
import type { Logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { ActivityParts } from "./activity.js";
import type { EventParts } from "./events.js";
import type { OpenedStore } from "./open-store.js";

/** What every part of the composition root is built from. */
export interface AppContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  vault: RecipientVault;
  /** The store as background work sees it: every tenant's records (`stores.unscoped`). */
  store: Store;
  /** The store as each call's tenant sees it: `stores.scoped(scope)`, one small object per call. */
  stores: TenantStores;
  /** The store as opened, with its Redis connections when there are any. */
  opened: OpenedStore;
  hasher: CodeHasher;
  /** Adds one to a usage counter of a tenant ("default" when undefined); best effort, never awaited. */
  countUsage(counter: string, tenantId: string | undefined): void;
  /** Outbound events: the buffer every domain emits into, the webhook stores and queues. */
  events: EventParts;
  /** Whether this process polls Telegram and registers its webhook. */
  leader: boolean;
  /** The console's activity counters and live feed. */
  activity: ActivityParts;
  /** When this process started, version and worker count, for GetSystemHealth. */
  system: { version: string; startedAtMs: number; workers: number };
}
