import type { DeliveryConfig } from "../config/index.js";
import type { RecipientVault } from "../core/recipient-vault.js";
import type { Channel } from "../delivery/channel.js";
import type { TelegramLinker } from "../delivery/delivery-service.js";
import type { DeliveryRecord } from "../delivery/delivery-store.js";
import type { RecipientPolicy } from "../delivery/recipients.js";
import type { Templates } from "../delivery/templates.js";
import type { Mount } from "../http/mount.js";
import type { CodeHasher } from "../otp/code-hasher.js";
import type { RedisTopology } from "../store/redis/topology.js";
import type { Store } from "../store/store.js";
import type { Logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics.js";

/** Options for `createProviders` (providers.ts), passed on to each provider's wiring. */
export interface ProvidersOptions {
  config: DeliveryConfig;
  store: Store;
  /** The Redis under the store, where the deletion queue and links live too; memory versions without it. */
  redis: { topology: RedisTopology; keyPrefix: string } | undefined;
  /** Found Telegram phone links before they were named under the recipient key; read, never written. */
  hasher: CodeHasher;
  /**
   * Names Telegram phone links by keyed hash and seals the chat ids of links
   * and of the deletion queue, so Redis holds neither phone numbers nor chat ids.
   */
  vault: RecipientVault;
  templates: Templates;
  recipients: RecipientPolicy;
  logger: Logger;
  metrics: Metrics;
  /**
   * True in the one process of a multi-process service that registers the
   * Telegram webhook or polls for updates (Telegram allows one poller per bot).
   */
  leader: boolean;
  now: () => number;
  /** Told of a status a provider reported for a delivery (for the activity feed). */
  onStatusReport?: (delivery: DeliveryRecord, status: string) => void;
}

/** What each provider's wiring adds to: the channels, webhooks, banner lines and background work. */
export interface ProviderParts {
  channels: Channel[];
  mounts: Mount[];
  notes: string[];
  starts: (() => void)[];
  stops: (() => Promise<void>)[];
  telegramLinker: TelegramLinker | undefined;
  /** True once Twilio status callbacks are served. */
  twilioReports: boolean;
  /** True once Telegram Gateway delivery reports are served. */
  gatewayReports: boolean;
  /** Appends a delivery event, logging (never throwing) when the store refuses. */
  record(deliveryId: string, event: Parameters<Store["appendDeliveryEvent"]>[1]): Promise<void>;
}
