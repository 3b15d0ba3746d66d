/** Steps that undo what the bench started, run last-in first-out. */
export interface Cleanup {
  add(step: () => Promise<void>): void;
  /** Runs every step once, even when some fail. */
  run(): Promise<void>;
}

/**
 * Creates the bench's cleanup list and makes SIGINT and SIGTERM run it before
 * the process exits, so an interrupted run leaves no service or redis behind.
 */
export function createCleanup(): Cleanup {
  const steps: (() => Promise<void>)[] = [];
  const run = async () => {
    for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
      try {
        await step();
      } catch (err) {
        process.stderr.write(`bench: cleanup failed: ${String(err)}\n`);
      }
    }
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping\n`);
      void run().finally(() => process.exit(130));
    });
  }
  return { add: (step) => steps.push(step), run };
}
