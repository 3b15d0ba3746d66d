import { healthCall } from "./calls.js";
import type { LoadDriver, LoadTarget } from "./load.js";
import { cpuMsBetween, sampleTree } from "./proc.js";
import { bareServerArgs, startService } from "./service.js";
import type { FloorProbe } from "./suite.js";

/**
 * Starts a bare Connect-node server (bench/bare-server.ts) that stays up for
 * the whole run, warms it on every protocol, and measures it in short slices
 * around each of the service's windows: a ratio divides two figures taken
 * seconds apart, not minutes, so the drift of a shared machine touches both.
 */
export async function startFloorProbe(
  drivers: LoadDriver[],
  ticksPerSecond: number,
  warmupSeconds: number,
  connections: number,
): Promise<FloorProbe & { stop: () => Promise<void> }> {
  const proc = await startService({}, bareServerArgs);
  const targets = new Map<string, LoadTarget>();
  try {
    for (const driver of drivers) {
      const target = await driver.prepare(proc.url, healthCall({}));
      targets.set(driver.protocol, target);
      await target.run({ seconds: warmupSeconds, connections });
    }
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    async slice(protocol, seconds, sliceConnections, rate) {
      const target = targets.get(protocol);
      if (target === undefined) throw new Error(`the floor has no ${protocol} driver`);
      const before = await sampleTree(proc.pid);
      const load = await target.run({
        seconds,
        connections: sliceConnections,
        ...(rate === undefined ? {} : { rate }),
      });
      const after = await sampleTree(proc.pid);
      return {
        calls: load.calls,
        cpuMs: cpuMsBetween(before, after, ticksPerSecond),
        p99Ms: load.p99Ms,
      };
    },
    async stop() {
      for (const target of targets.values()) await target.close();
      await proc.stop();
    },
  };
}
