import type { OtpError } from "../core/otp-error.js";
import { fraudErrors } from "./errors.js";
import { createFraudCounts } from "./fraud-counts.js";
import type { FraudBlock, FraudQuery, FraudStore } from "./fraud-store.js";
import { destinationPrefix } from "./prefix.js";
import { type FraudCounts, type FraudThresholds, isPumped } from "./thresholds.js";

/** A block this process decided, for metrics and the audit trail. */
export interface FraudDecision {
  tenantId: string;
  /** The destination prefix, e.g. "+44 791": never a number. */
  prefix: string;
  country: string;
  /** "enforce": sends are refused; "report": they are only counted as would-be refusals. */
  mode: "enforce" | "report";
  /** What the window held when it was judged. */
  counts: FraudCounts;
  untilMs: number;
}

/** Options for {@link createFraudGuard}. */
export interface FraudGuardOptions {
  store: FraudStore;
  /** The thresholds of a tenant: the seam tenant settings override them through. */
  thresholdsFor: (tenantId: string) => FraudThresholds;
  /** Digits of the national number in a prefix (FRAUD_PREFIX_DIGITS). */
  prefixDigits: number;
  /** How often counts are flushed, prefixes judged and blocks read, in ms; 0 for no timer (tests call tick). */
  evaluateMs: number;
  now?: () => number;
  /** Told of each block this process made (not of those it read from other replicas). */
  onDecision?: (decision: FraudDecision) => void;
  /** Told of each send refused ("refuse") or, in report mode, let through that would have been ("would_refuse"). */
  onSend?: (
    mode: "enforce" | "report",
    decision: "refuse" | "would_refuse",
    country: string,
  ) => void;
  /** Told when the store fails; counts of a failed flush are kept for the next one. */
  onError?: (err: unknown) => void;
  /** The most distinct tenant and prefix pairs counted between two flushes; 10,000 by default. */
  maxPairs?: number;
}

/**
 * The guard against SMS pumping. Calls only ever touch process memory:
 * {@link FraudGuard.check} reads the in-process set of blocks, `sent` and
 * `verified` add to in-process counts. A timer in every process flushes the
 * counts to the store in one batch, judges the prefixes it sent to over the
 * shared window, records blocks, and reads back every replica's blocks.
 */
export interface FraudGuard {
  /**
   * The refusal of a send to `recipient` when its prefix is blocked for the
   * tenant and the tenant's mode is "enforce"; undefined otherwise (in
   * "report" mode a blocked prefix is counted as a would-be refusal).
   */
  check(tenantId: string, recipient: string, channel: string): OtpError | undefined;
  /** A code was sent to `recipient` (not phone numbers are ignored). */
  sent(tenantId: string, recipient: string): void;
  /** A code sent to `recipient` was verified. */
  verified(tenantId: string, recipient: string): void;
  /** Flushes, judges and refreshes once; what the timer runs. Never rejects. */
  tick(): Promise<void>;
  /** Stops the timer and flushes what is left. */
  close(): Promise<void>;
}

/** Creates a {@link FraudGuard} over `store`. */
export function createFraudGuard(options: FraudGuardOptions): FraudGuard {
  const { store, thresholdsFor, prefixDigits } = options;
  const now = options.now ?? Date.now;
  const counts = createFraudCounts(now, options.maxPairs ?? 10_000);
  const blocks = createBlockCache();
  const counting = (tenantId: string, recipient: string) =>
    thresholdsFor(tenantId).mode === "off" ? undefined : destinationPrefix(recipient, prefixDigits);
  const attempt = async (step: () => Promise<void>) => {
    try {
      await step();
    } catch (err) {
      options.onError?.(err);
    }
  };

  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= (async () => {
      const t = now();
      const { batch, active } = counts.take();
      if (batch.size > 0) {
        await attempt(async () => {
          try {
            await store.add(batch);
          } catch (err) {
            counts.putBack(batch);
            throw err;
          }
        });
      }
      await attempt(() => judge(options, blocks, active, t));
      await attempt(async () => blocks.replace(await store.activeBlocks(now())));
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer =
    options.evaluateMs > 0 ? setInterval(() => void tick(), options.evaluateMs) : undefined;
  timer?.unref();

  return {
    check(tenantId, recipient, channel) {
      // No block for the tenant (the usual case): one map lookup, no parsing.
      const forTenant = blocks.forTenant(tenantId);
      if (forTenant === undefined) return undefined;
      const destination = destinationPrefix(recipient, prefixDigits);
      if (destination === undefined) return undefined;
      const untilMs = forTenant.get(destination.prefix) ?? 0;
      const t = now();
      if (untilMs <= t) return undefined;
      const { mode } = thresholdsFor(tenantId);
      if (mode === "off") return undefined;
      if (mode === "report") {
        options.onSend?.("report", "would_refuse", destination.country);
        return undefined;
      }
      options.onSend?.("enforce", "refuse", destination.country);
      return fraudErrors.suspected(destination.prefix, channel, untilMs - t);
    },
    sent(tenantId, recipient) {
      const destination = counting(tenantId, recipient);
      if (destination !== undefined) counts.sent(tenantId, destination.prefix, destination.country);
    },
    verified(tenantId, recipient) {
      const destination = counting(tenantId, recipient);
      if (destination !== undefined) counts.verified(tenantId, destination.prefix);
    },
    tick,
    async close() {
      if (timer !== undefined) clearInterval(timer);
      await running;
      const { batch } = counts.take();
      if (batch.size > 0) await attempt(() => store.add(batch));
    },
  };
}

/** The blocks this process knows of: tenant -> prefix -> end, as the store last said plus its own. */
function createBlockCache() {
  let blocks = new Map<string, Map<string, number>>();
  const add = (into: Map<string, Map<string, number>>, block: FraudBlock) => {
    let forTenant = into.get(block.tenantId);
    if (forTenant === undefined) {
      forTenant = new Map();
      into.set(block.tenantId, forTenant);
    }
    forTenant.set(block.prefix, Math.max(block.untilMs, forTenant.get(block.prefix) ?? 0));
  };
  return {
    forTenant: (tenantId: string) => blocks.get(tenantId),
    until: (tenantId: string, prefix: string) => blocks.get(tenantId)?.get(prefix) ?? 0,
    remember: (block: FraudBlock) => add(blocks, block),
    /** Takes the store's active blocks as the whole set. */
    replace(active: readonly FraudBlock[]) {
      const next = new Map<string, Map<string, number>>();
      for (const block of active) add(next, block);
      blocks = next;
    },
  };
}

/**
 * Judges the prefixes sent to since the last round that are not blocked
 * already, over the window every replica adds to, and records a block for
 * each one found pumped.
 */
async function judge(
  options: FraudGuardOptions,
  blocks: ReturnType<typeof createBlockCache>,
  active: Map<string, Map<string, string>>,
  t: number,
): Promise<void> {
  const { store, thresholdsFor } = options;
  const queries: FraudQuery[] = [];
  const seen: { country: string; thresholds: FraudThresholds }[] = [];
  for (const [tenantId, prefixes] of active) {
    const thresholds = thresholdsFor(tenantId);
    if (thresholds.mode === "off") continue;
    for (const [prefix, country] of prefixes) {
      if (blocks.until(tenantId, prefix) > t) continue;
      queries.push({ tenantId, prefix, windowMs: thresholds.windowMs });
      seen.push({ country, thresholds });
    }
  }
  if (queries.length === 0) return;
  const sums = await store.sums(queries, t);
  await Promise.all(
    queries.map(async (query, i) => {
      const { country, thresholds } = seen[i] as (typeof seen)[number];
      const window = sums[i] ?? { sends: 0, verified: 0 };
      if (thresholds.mode === "off" || !isPumped(window, thresholds)) return;
      const block = {
        tenantId: query.tenantId,
        prefix: query.prefix,
        untilMs: t + thresholds.cooldownMs,
      };
      const created = await store.block(block, t);
      blocks.remember(block);
      if (created) {
        options.onDecision?.({ ...block, country, mode: thresholds.mode, counts: window });
      }
    }),
  );
}
