import { parseArgs } from "node:util";
import type { Timing } from "./suite.js";

/** What one `npm run bench` run measures. */
export interface BenchOptions {
  timing: Timing;
  /** Configuration names to run (`--only`); undefined for all. */
  only?: string[];
  quick: boolean;
  /** `--node MAJOR`: run under that Node.js major (the Docker image's), fetched by scripts/node-runtime.ts. */
  node?: string;
}

export const usage = `usage: npm run bench -- [--quick] [--only NAME[,NAME...]] [--node MAJOR]

  --quick   short windows (about 3 minutes in all) for a quick look, no settled-memory reading;
            the full run takes about 20
  --only    run only these configurations: bare, memory-dev, redis-dev, redis-prod, redis-prod-auto
            (the bare floor always runs, since every ratio divides by it)
  --node    run the bench, the service and the floor under this Node.js major, e.g. 24 (the
            Docker image's); fetched once from the npm registry into node_modules/.cache`;

/**
 * Reads the command line; throws with the usage text on anything unknown.
 *
 * @example
 * parseOptions(["--quick", "--only", "redis-prod"]);
 */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean" },
      only: { type: "string", multiple: true },
      node: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) throw new Error(usage);
  const quick = values.quick === true;
  const only = values.only?.flatMap((s) => s.split(",")).map((s) => s.trim());
  const timing: Timing = quick
    ? {
        startupWarmup: 1,
        jitWarmup: 1,
        warmup: 1,
        measure: 2,
        paced: 2,
        connections: 50,
        singleCalls: 3,
        settle: 0,
      }
    : {
        startupWarmup: 2,
        jitWarmup: 2,
        warmup: 1,
        measure: 4,
        paced: 3,
        connections: 50,
        singleCalls: 5,
        settle: 90,
      };
  const node = values.node;
  if (node !== undefined && !/^\d+$/.test(node))
    throw new Error(`--node takes a major version such as 24\n${usage}`);
  return {
    timing,
    quick,
    ...(only === undefined ? {} : { only }),
    ...(node === undefined ? {} : { node }),
  };
}
