import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type RedisInstance, startRedis } from "../test/support/redis-harness.js";
import { startProdArgs } from "../test/support/start-prod.js";
import { type AbRound, roundOrder, summarizeAb, treeCommand } from "./ab-summary.js";
import { createApiKeyHeaders, generateCall, healthCall, verifyCall } from "./calls.js";
import { createCleanup } from "./cleanup.js";
import { runCommand } from "./commands.js";
import { allConfigs } from "./configs.js";
import { grpcDriver } from "./grpc-load.js";
import type { LoadCall, LoadDriver, LoadTarget } from "./load.js";
import { clockTicksPerSecond, cpuMsBetween, procAvailable, sampleTree } from "./proc.js";
import { type ServiceProcess, startService } from "./service.js";
import { wrkDriver } from "./wrk-load.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const usage = `usage: npm run bench:ab -- --base REF [--rounds N] [--seconds S] [--rpcs Generate,Verify,Health] [--protocols json,grpc] [--workers 1|auto|N]

  --base       the commit to compare the working tree with (A); the working tree is B
  --rounds     alternating rounds per RPC and protocol (6)
  --seconds    length of each window (5)
  --workers    WORKERS for both services (1)`;

const progress = (text: string) => process.stderr.write(`bench:ab: ${text}\n`);

interface Side {
  name: "a" | "b";
  service: ServiceProcess;
  headers: Record<string, string>;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      base: { type: "string" },
      rounds: { type: "string", default: "6" },
      seconds: { type: "string", default: "5" },
      rpcs: { type: "string", default: "Generate,Verify" },
      protocols: { type: "string", default: "json,grpc" },
      workers: { type: "string", default: "1" },
    },
    strict: true,
  });
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  if (values.base === undefined || !(rounds >= 2) || !(seconds >= 1)) throw new Error(usage);
  return {
    base: values.base,
    rounds,
    seconds,
    rpcs: values.rpcs.split(","),
    workers: values.workers,
    drivers: values.protocols.split(",").map((p) => (p === "grpc" ? grpcDriver : wrkDriver)),
  };
}

// The base commit, checked out beside the repository and compiled there.
async function buildBase(ref: string, cleanup: ReturnType<typeof createCleanup>): Promise<string> {
  const sha = (
    await runCommand("git", ["-C", repoRoot, "rev-parse", "--verify", ref], 10_000)
  ).stdout.trim();
  if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`not a commit: ${ref}`);
  const tree = join(tmpdir(), `otp-bench-ab-${sha.slice(0, 12)}-${process.pid}`);
  const added = await runCommand(
    "git",
    ["-C", repoRoot, "worktree", "add", "--detach", tree, sha],
    60_000,
  );
  if (added.code !== 0) throw new Error(`git worktree add failed: ${added.stderr}`);
  cleanup.add(async () => {
    await runCommand("git", ["-C", repoRoot, "worktree", "remove", "--force", tree], 60_000);
  });
  await runCommand(
    "ln",
    ["-s", join(repoRoot, "node_modules"), join(tree, "node_modules")],
    10_000,
  );
  progress(`compiling ${ref} (${sha.slice(0, 7)}) in ${tree}`);
  await build(tree);
  return tree;
}

async function build(tree: string): Promise<void> {
  const built = await runCommand(
    process.execPath,
    [join(tree, "scripts/build-service.mjs")],
    300_000,
  );
  if (built.code !== 0) throw new Error(`build failed in ${tree}: ${built.stderr}`);
}

function productionRow() {
  const row = allConfigs().find((c) => c.name === "redis-prod");
  if (row === undefined) throw new Error("bench/configs.ts has no redis-prod configuration");
  return row;
}

// A tree's production command line, from its own package.json.
function prodArgs(tree: string): string[] {
  return treeCommand(startProdArgs(join(tree, "package.json")), tree);
}

async function startSide(
  name: "a" | "b",
  tree: string,
  workers: string,
  cleanup: ReturnType<typeof createCleanup>,
): Promise<Side> {
  const redis: RedisInstance = await startRedis();
  cleanup.add(() => redis.stop());
  const service = await startService(
    // The bench's own production row: the same limits, keys and log level.
    { ...productionRow().env, REDIS_URL: redis.url, WORKERS: workers },
    prodArgs(tree),
  );
  cleanup.add(() => service.stop());
  return { name, service, headers: await createApiKeyHeaders(service.url) };
}

async function callFor(rpc: string, side: Side): Promise<LoadCall> {
  if (rpc === "Generate") return generateCall(side.headers);
  if (rpc === "Verify") return verifyCall(side.service.url, side.headers, true);
  return healthCall(side.headers);
}

// One RPC over one protocol: a warm-up each, then the alternating rounds.
async function compare(
  driver: LoadDriver,
  rpc: string,
  sides: [Side, Side],
  options: { rounds: number; seconds: number },
  ticks: number,
): Promise<AbRound[]> {
  const targets = new Map<"a" | "b", { side: Side; target: LoadTarget }>();
  for (const side of sides) {
    targets.set(side.name, {
      side,
      target: await driver.prepare(side.service.url, await callFor(rpc, side)),
    });
  }
  for (const { target } of targets.values()) await target.run({ seconds: 2, connections: 50 });
  const rounds: AbRound[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const cpu = { a: 0, b: 0 };
    for (const name of roundOrder(round)) {
      const { side, target } = targets.get(name) as { side: Side; target: LoadTarget };
      const before = await sampleTree(side.service.pid);
      const load = await target.run({ seconds: options.seconds, connections: 50 });
      const after = await sampleTree(side.service.pid);
      cpu[name] = cpuMsBetween(before, after, ticks) / Math.max(1, load.calls);
    }
    rounds.push(cpu);
  }
  for (const { target } of targets.values()) await target.close();
  return rounds;
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  if (!(await procAvailable())) throw new Error("bench:ab needs Linux /proc");
  const ticks = await clockTicksPerSecond();
  const cleanup = createCleanup();
  try {
    const baseTree = await buildBase(options.base, cleanup);
    progress("compiling the working tree");
    await build(repoRoot);
    const sides: [Side, Side] = [
      await startSide("a", baseTree, options.workers, cleanup),
      await startSide("b", repoRoot, options.workers, cleanup),
    ];
    const lines = [
      `A/B: ${options.base} (A) against the working tree (B); ${options.rounds} rounds of ${options.seconds} s, 50 connections, production with a key on Redis, WORKERS=${options.workers} each`,
      "",
      "| protocol | RPC | A CPU ms/call | B CPU ms/call | B ÷ A (median of rounds) | rounds |",
      "| --- | --- | ---: | ---: | ---: | --- |",
    ];
    for (const driver of options.drivers) {
      for (const rpc of options.rpcs) {
        progress(`${driver.protocol} ${rpc}`);
        const s = summarizeAb(await compare(driver, rpc, sides, options, ticks));
        const rounds = s.ratios.map((r) => r.toFixed(2)).join(" ");
        lines.push(
          `| ${driver.protocol} | ${rpc} | ${s.aMedian.toFixed(3)} | ${s.bMedian.toFixed(3)} | ${s.medianRatio.toFixed(3)} | ${rounds} |`,
        );
      }
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
