/** Options for {@link createReadiness}. */
export interface ReadinessOptions {
  /** Resolves when the service can serve its calls (for example `Store.ping`); rejects otherwise. */
  check: () => Promise<void>;
  /** True while the service drains before shutting down: never ready then. */
  draining: () => boolean;
  /** How long an answer is reused, in milliseconds; 1000 by default. */
  cacheMs?: number;
  /** How long a check may take before it counts as failed, in milliseconds; 2000 by default. */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Makes the `ready` function of `/readyz`. Probes arriving together share one
 * check, and its answer is reused for `cacheMs`, so a flood of probes costs
 * the store one round of pings per second; a check that takes longer than
 * `timeoutMs` answers "not ready".
 *
 * @example
 * const ready = createReadiness({ check: () => store.ping(), draining: () => draining });
 * withProbes(handler, { ready, metrics: metrics.render });
 */
export function createReadiness(options: ReadinessOptions): () => Promise<boolean> {
  const cacheMs = options.cacheMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 2000;
  const now = options.now ?? Date.now;
  let last: { ready: boolean; atMs: number } | undefined;
  let inFlight: Promise<boolean> | undefined;

  const run = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([
        options.check().then(
          () => true,
          () => false,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  return async () => {
    if (options.draining()) return false;
    if (last !== undefined && now() - last.atMs < cacheMs) return last.ready;
    inFlight ??= run().then((ready) => {
      last = { ready, atMs: now() };
      inFlight = undefined;
      return ready;
    });
    return inFlight;
  };
}
