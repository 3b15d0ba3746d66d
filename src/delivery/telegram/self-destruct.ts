import {
  type Link,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { Api } from "grammy";
import { DeliveryError } from "../delivery-error.js";
import type { DeletionItem, DeletionQueue } from "./deletion-queue.js";
import { classifyTelegramError, grammySignal } from "./telegram-channel.js";

/** What became of a claimed deletion. */
export type DeletionOutcome =
  /** The message is gone: deleted now, or already deleted (by the user, or an earlier try). */
  | { kind: "deleted"; item: DeletionItem }
  /** It can never be deleted (for example older than 48 hours, or the bot was blocked). */
  | { kind: "failed"; item: DeletionItem; error: DeliveryError }
  /** It failed for now and was given back to the queue, due again at `retryAtMs`. */
  | { kind: "retrying"; item: DeletionItem; error: DeliveryError; retryAtMs: number };

/** Deletes one Telegram message; rejects with a classified {@link DeliveryError}. */
export type DeleteMessage = (item: DeletionItem, signal: AbortSignal) => Promise<void>;

/**
 * A {@link DeleteMessage} over the Bot API. Telegram's "message to delete not
 * found" counts as done: the message is gone either way. `openChat` opens an
 * item's chat id when the channel sealed it (see `sealChat`).
 */
export function createTelegramDeleter(
  api: Api,
  openChat: (stored: string) => string = (stored) => stored,
): DeleteMessage {
  return async (item, signal) => {
    let chatId: string;
    try {
      chatId = openChat(item.chatId);
    } catch {
      // Sealed under a secret no longer configured: it can never be deleted.
      throw new DeliveryError("telegram", "INTERNAL", { retryable: false });
    }
    try {
      await api.deleteMessage(chatId, item.messageId, grammySignal(signal));
    } catch (err) {
      const classified = classifyTelegramError(err);
      const description = (err as { description?: unknown }).description;
      if (
        typeof description === "string" &&
        description.toLowerCase().includes("message to delete not found")
      ) {
        return;
      }
      throw classified;
    }
  };
}

/** Options for {@link createSelfDestruct}. */
export interface SelfDestructOptions {
  queue: DeletionQueue;
  deleteMessage: DeleteMessage;
  /** How often the queue is polled, in milliseconds; 1 second by default. */
  intervalMs?: number;
  /** The most items claimed per poll; 50 by default. */
  batchSize?: number;
  /** How long a failed deletion waits before its next try, at least; 5 seconds by default. */
  retryDelayMs?: number;
  /** The longest one deleteMessage call may take, in milliseconds; 10 seconds by default. */
  requestTimeoutMs?: number;
  /** Reports each claimed item's fate, to record "deleted" on its delivery. */
  onOutcome?: (outcome: DeletionOutcome) => void;
  /** Receives errors of the queue itself (for example Redis down); polling goes on. */
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** The poller that deletes self-destructing Telegram messages when due. */
export interface SelfDestruct {
  /** Starts polling; the timers never keep the process alive on their own. */
  start(): void;
  /** Stops polling and waits for the round in flight to finish. */
  stop(): Promise<void>;
  /** Runs one round now: claims due items (in batches until none is left) and handles them. Returns how many it claimed. */
  runOnce(): Promise<number>;
  /** Tells the poller an item is due at `dueMs`, so it wakes then instead of at the next tick. */
  wake(dueMs: number): void;
}

/**
 * Creates the self-destruct poller. Every instance of the service may run
 * one over the same queue: claims are atomic, so each message is deleted by
 * exactly one of them, and a claim whose owner died comes back after its
 * lease. Precision is the poll interval, or better with {@link SelfDestruct.wake}.
 */
export function createSelfDestruct(options: SelfDestructOptions): SelfDestruct {
  const state: PollerState = {
    options,
    now: options.now ?? Date.now,
    intervalMs: options.intervalMs ?? 1000,
    batchSize: options.batchSize ?? 50,
    retryDelayMs: options.retryDelayMs ?? 5000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    tracer: trace.getTracer("otp-service"),
    running: false,
    stopping: false,
    timer: undefined,
    timerAtMs: Number.POSITIVE_INFINITY,
    inFlight: undefined,
    wakes: [],
  };
  return {
    start() {
      if (state.running) return;
      state.running = true;
      state.stopping = false;
      arm(state, state.now());
    },
    async stop() {
      state.running = false;
      state.stopping = true;
      if (state.timer !== undefined) clearTimeout(state.timer);
      state.timer = undefined;
      state.timerAtMs = Number.POSITIVE_INFINITY;
      state.wakes = [];
      await state.inFlight?.catch(() => {});
    },
    runOnce: () => runOnce(state),
    wake(dueMs) {
      if (!state.running) return;
      const { wakes } = state;
      if (wakes.length < maxWakes && !wakes.includes(dueMs)) {
        const at = wakes.findIndex((w) => w > dueMs);
        wakes.splice(at === -1 ? wakes.length : at, 0, dueMs);
      }
      // A timer already set for earlier stays; the round it runs re-arms for the next wake.
      arm(state, dueMs);
    },
  };
}

// The poller's settings and its moving parts.
interface PollerState {
  options: SelfDestructOptions;
  now: () => number;
  intervalMs: number;
  batchSize: number;
  retryDelayMs: number;
  requestTimeoutMs: number;
  tracer: Tracer;
  running: boolean;
  stopping: boolean;
  timer: NodeJS.Timeout | undefined;
  timerAtMs: number;
  inFlight: Promise<number> | undefined;
  // Due times announced with wake() and not yet covered by a claim, earliest
  // first. Bounded: past the cap, the poll interval still catches every item.
  wakes: number[];
}

const maxWakes = 1000;

function runOnce(state: PollerState): Promise<number> {
  // One round at a time in this process; other processes are kept apart by the claims.
  state.inFlight ??= round(state).finally(() => {
    state.inFlight = undefined;
  });
  return state.inFlight;
}

function arm(state: PollerState, atMs: number): void {
  if (!state.running || atMs >= state.timerAtMs) return;
  if (state.timer !== undefined) clearTimeout(state.timer);
  state.timerAtMs = atMs;
  state.timer = setTimeout(() => tick(state), Math.max(0, atMs - state.now()));
  state.timer.unref();
}

function tick(state: PollerState): void {
  state.timer = undefined;
  state.timerAtMs = Number.POSITIVE_INFINITY;
  runOnce(state)
    .catch((err: unknown) => state.options.onError?.(err))
    .finally(() =>
      arm(
        state,
        Math.min(state.now() + state.intervalMs, state.wakes[0] ?? Number.POSITIVE_INFINITY),
      ),
    );
}

// Claims due items in batches until none is left, and handles each.
async function round(state: PollerState): Promise<number> {
  const { options, batchSize } = state;
  let total = 0;
  for (;;) {
    const at = state.now();
    // This claim covers every item due by `at`, so the wakes up to it are served.
    state.wakes = state.wakes.filter((w) => w > at);
    const items = await options.queue.claimDue(at, batchSize);
    total += items.length;
    const settled = await Promise.allSettled(items.map((item) => handle(state, item)));
    for (const result of settled) {
      if (result.status === "fulfilled") options.onOutcome?.(result.value);
      // A queue error while completing: the lease brings the item back later.
      else options.onError?.(result.reason);
    }
    if (items.length < batchSize || state.stopping) return total;
  }
}

// Each deletion is its own trace, linked to the trace of the send that
// scheduled it (which may have ended long ago, in another process).
function handle(state: PollerState, item: DeletionItem): Promise<DeletionOutcome> {
  const links: Link[] = [];
  if (item.traceparent !== undefined) {
    const linked = trace.getSpanContext(
      propagation.extract(ROOT_CONTEXT, { traceparent: item.traceparent }),
    );
    if (linked !== undefined) links.push({ context: linked });
  }
  return state.tracer.startActiveSpan(
    "telegram self-destruct",
    {
      kind: SpanKind.INTERNAL,
      links,
      attributes: { "otp.channel": "telegram", "otp.delivery_id": item.deliveryId },
    },
    ROOT_CONTEXT,
    async (span) => {
      try {
        const outcome = await deleteItem(state, item);
        span.setAttribute("otp.outcome", outcome.kind);
        if (outcome.kind !== "deleted") {
          span.setAttribute("otp.reason", outcome.error.reason);
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.reason });
        }
        return outcome;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: "queue error" });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

// Deletes the message, then completes the item, or gives it back for a retry.
async function deleteItem(state: PollerState, item: DeletionItem): Promise<DeletionOutcome> {
  const { options } = state;
  try {
    await options.deleteMessage(item, AbortSignal.timeout(state.requestTimeoutMs));
    await options.queue.complete(item);
    return { kind: "deleted", item };
  } catch (err) {
    const error =
      err instanceof DeliveryError
        ? err
        : new DeliveryError("telegram", "INTERNAL", { retryable: false });
    if (error.retryable) {
      const retryAtMs = state.now() + Math.max(state.retryDelayMs, error.retryAfterMs ?? 0);
      await options.queue.release(item, retryAtMs);
      return { kind: "retrying", item, error, retryAtMs };
    }
    await options.queue.complete(item);
    return { kind: "failed", item, error };
  }
}
