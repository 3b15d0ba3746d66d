import { parseArgs } from "node:util";

/** The stores the bench can run the service on. */
export const storeNames = ["memory", "redis"] as const;
export type StoreName = (typeof storeNames)[number];

/** What one `npm run bench` run measures. */
export interface BenchOptions {
  /** Each store gets its own service process and the full set of scenarios. */
  stores: StoreName[];
  /** Measured seconds per scenario. */
  durationSeconds: number;
  /** Seconds of load before each measurement, thrown away. */
  warmupSeconds: number;
  /** Seconds of baseline load per protocol on a fresh service, thrown away. */
  startupWarmupSeconds: number;
}

export const usage = `usage: npm run bench -- [--store memory|redis ...] [--duration SECONDS]

  --store     store under test; repeat it or separate with commas (default: memory)
  --duration  measured seconds per scenario, after a 1 s warm-up (default: 5)`;

/**
 * Reads the command line; throws with the usage text on anything unknown.
 *
 * @example
 * parseOptions(["--store", "memory,redis", "--duration", "10"]);
 */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: "string", multiple: true },
      duration: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) throw new Error(usage);
  const stores = (values.store ?? ["memory"]).flatMap((s) => s.split(",")).map((s) => s.trim());
  for (const store of stores) {
    if (!(storeNames as readonly string[]).includes(store)) {
      throw new Error(`unknown store "${store}"\n${usage}`);
    }
  }
  const durationSeconds = Number(values.duration ?? "5");
  if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > 600) {
    throw new Error(`--duration must be a whole number of seconds from 1 to 600\n${usage}`);
  }
  return {
    stores: [...new Set(stores)] as StoreName[],
    durationSeconds,
    warmupSeconds: 1,
    startupWarmupSeconds: 5,
  };
}
