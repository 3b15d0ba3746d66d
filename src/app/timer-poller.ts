import type { DueQueue } from "../events/due-queue.js";

/** Options for {@link startTimerPoller}. */
export interface TimerPollerOptions {
  queue: Pick<DueQueue, "claim" | "complete" | "retry">;
  /** Acts on one due timer's body; a throw has it tried again 5 s later. */
  run: (body: string) => Promise<void>;
  pollMs: number;
  now: () => number;
  onError: (err: unknown) => void;
}

/**
 * Polls a durable timer queue shared by every replica: each due timer is
 * claimed by one replica (a lease; a replica that dies mid-way hands it on
 * when the lease lapses), run, then completed. `stop` waits for a poll in
 * progress.
 *
 * @example
 * const poller = startTimerPoller({ queue, run, pollMs: 250, now: Date.now, onError });
 * await poller.stop();
 */
export function startTimerPoller(options: TimerPollerOptions): { stop(): Promise<void> } {
  const { queue, now } = options;
  let running: Promise<void> | undefined;
  const poll = async () => {
    for (const item of await queue.claim(now(), 20)) {
      try {
        await options.run(item.body);
        await queue.complete(item.id, item.claim, now(), 0);
      } catch (err) {
        options.onError(err);
        await queue.retry(item.id, item.claim, now() + 5_000).catch(() => false);
      }
    }
  };
  const timer = setInterval(() => {
    running ??= poll()
      .catch(options.onError)
      .finally(() => {
        running = undefined;
      });
  }, options.pollMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
