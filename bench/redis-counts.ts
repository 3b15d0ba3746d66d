import { Redis } from "ioredis";
import type { LoadCall } from "./load.js";
import { type Monitor, type MonitorLine, startMonitor, topLevelCommands } from "./monitor.js";
import type { TurnCountingProxy } from "./redis-proxy.js";

/** Counters of one Redis at one moment, from INFO. */
export interface RedisCounters {
  /** Socket reads of client requests (`total_reads_processed`): one per batch of commands a client sent and Redis read at once. */
  reads: number;
  /** Calls per command from `INFO commandstats`, including the calls scripts make inside Redis. */
  commands: Record<string, number>;
}

/** Parses `INFO stats` and `INFO commandstats` text into counters. */
export function parseInfo(text: string): RedisCounters {
  const reads = Number(/^total_reads_processed:(\d+)/m.exec(text)?.[1] ?? Number.NaN);
  const commands: Record<string, number> = {};
  for (const [, name, calls] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name !== undefined) commands[name] = Number(calls);
  }
  return { reads, commands };
}

/** What grew between two counter readings, per call. */
export function perCall(
  before: RedisCounters,
  after: RedisCounters,
  calls: number,
  ownReads = 0,
): { readsPerCall: number; commandsPerCall: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [name, n] of Object.entries(after.commands)) {
    // The bench's own INFO calls are not the service's.
    if (name === "info") continue;
    const grew = n - (before.commands[name] ?? 0);
    if (grew > 0) {
      byCommand[name] = grew / calls;
      total += grew;
    }
  }
  return {
    readsPerCall: (after.reads - before.reads - ownReads) / calls,
    commandsPerCall: total / calls,
    byCommand,
  };
}

/** The bench's own connection to the Redis under test. */
export interface RedisProbe {
  counters(): Promise<RedisCounters>;
  /** `ip:port` of this connection as MONITOR shows it, so its lines can be left out. */
  clientAddress: string;
  port: number;
  close(): Promise<void>;
}

/** Connects to the Redis the service uses, to read its counters. */
export async function openRedisProbe(port: number): Promise<RedisProbe> {
  const redis = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await redis.connect();
  const info = (await redis.client("INFO")) as string;
  const clientAddress = /addr=(\S+)/.exec(info)?.[1] ?? "";
  return {
    port,
    clientAddress,
    counters: async () => parseInfo(await redis.info("everything")),
    close: async () => {
      redis.disconnect();
    },
  };
}

/** One single call, as the store saw it. */
export interface SingleCallTrace {
  /** Turns the service took on its Redis connections while the call was open: its sequential round trips. */
  turns: number;
  /** Redis socket reads from the service between sending the call and receiving its answer. */
  flightsDuringCall: number;
  /** Top-level commands during the call (script-internal calls dropped, MULTI…EXEC once). */
  during: string[];
  /** Top-level commands in the 100 ms after the answer: work the call left un-awaited. */
  after: string[];
}

/** The median trace of several single calls of one RPC, and all of them for the JSON. */
export interface SingleCallSummary {
  /** Median sequential round trips: turns on the service's Redis connections while the call was open. */
  roundTrips: number;
  /** Median Redis socket reads of the service's requests while the call was open (an un-awaited command sent alongside counts here). */
  reads: number;
  /** Median top-level commands during the call. */
  commands: number;
  /** Median top-level commands after the answer (not waited for). */
  afterAnswer: number;
  /** The commands of the median call, in order, e.g. `EVALSHA`, then `| after: MULTI…EXEC`. */
  sequence: string;
  traces: SingleCallTrace[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * Sends `count` single calls of `call`, one at a time over Connect JSON, to a
 * service whose Redis connections go through `proxy`, with a MONITOR
 * connection open, and reads `total_reads_processed` just before the call,
 * just after its answer, and 100 ms later. The proxy's turns while the call
 * was open are its sequential round trips; each call's top-level commands
 * are those MONITOR shows between the bench's INFO lines; the reads between
 * the first two INFOs, less the bench's own, are the batches of commands
 * Redis read from the service meanwhile.
 */
export async function traceSingleCalls(
  baseUrl: string,
  probe: RedisProbe,
  proxy: TurnCountingProxy,
  makeCall: () => Promise<LoadCall>,
  count: number,
): Promise<SingleCallSummary> {
  const monitor: Monitor = await startMonitor(probe.port);
  const traces: SingleCallTrace[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const call = await makeCall();
      await new Promise((r) => setTimeout(r, 50));
      const from = monitor.lines.length;
      const r0 = await probe.counters();
      const turns0 = proxy.turns();
      const res = await fetch(`${baseUrl}/${call.procedure}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...call.headers },
        body: call.json,
      });
      await res.arrayBuffer();
      const turns1 = proxy.turns();
      if (!res.ok) throw new Error(`${call.procedure}: HTTP ${res.status}`);
      const r1 = await probe.counters();
      await new Promise((r) => setTimeout(r, 100));
      // Its INFO line in MONITOR closes the "after the answer" window.
      await probe.counters();
      // MONITOR may trail the INFO answers slightly.
      await new Promise((r) => setTimeout(r, 20));
      const lines = monitor.lines.slice(from);
      const infos = lines
        .map((l, index) => ({ l, index }))
        .filter(({ l }) => l.client === probe.clientAddress && l.command === "INFO")
        .map(({ index }) => index);
      const [i0 = 0, i1 = lines.length, i2 = lines.length] = infos;
      const top = (part: MonitorLine[]) =>
        topLevelCommands(part, new Set([probe.clientAddress])).map((l) => l.command);
      traces.push({
        turns: turns1 - turns0,
        // r1 counts its own INFO read.
        flightsDuringCall: r1.reads - r0.reads - 1,
        during: top(lines.slice(i0 + 1, i1)),
        after: top(lines.slice(i1 + 1, i2)),
      });
    }
  } finally {
    await monitor.stop();
  }
  const roundTrips = median(traces.map((t) => t.turns));
  const commands = median(traces.map((t) => t.during.length));
  const typical =
    traces.find((t) => t.turns === roundTrips && t.during.length === commands) ?? traces[0];
  const sequence =
    typical === undefined
      ? ""
      : [
          typical.during.join(" → ") || "none",
          ...(typical.after.length > 0 ? [`| after the answer: ${typical.after.join(", ")}`] : []),
        ].join(" ");
  return {
    roundTrips,
    reads: median(traces.map((t) => t.flightsDuringCall)),
    commands,
    afterAnswer: median(traces.map((t) => t.after.length)),
    sequence,
    traces,
  };
}

/**
 * Counts the top-level commands the store received while `work` ran (a load
 * tool's warm-up), from a MONITOR connection: MONITOR slows Redis, so it only
 * runs in windows that are not measured.
 */
export async function countTopLevelDuring(
  probe: RedisProbe,
  work: () => Promise<number>,
): Promise<{ calls: number; topLevel: number; byCommand: Record<string, number> }> {
  const monitor = await startMonitor(probe.port);
  let calls: number;
  try {
    calls = await work();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    await monitor.stop();
  }
  const top = topLevelCommands(monitor.lines, new Set([probe.clientAddress]));
  const byCommand: Record<string, number> = {};
  for (const l of top) byCommand[l.command] = (byCommand[l.command] ?? 0) + 1;
  return { calls, topLevel: top.length, byCommand };
}
