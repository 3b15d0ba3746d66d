import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { run } from "./spawn-server.js";

/** A private redis-server started by a test, on a free port of 127.0.0.1. */
export interface RedisInstance {
  port: number;
  url: string;
  /** Kills the server hard, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing on disk). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Finds a port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function waitForPing(port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A server that could not bind its port (taken meanwhile by another process) exits at once.
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new PortTakenError(`redis on ${port} exited before it answered`);
    }
    const client = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch {
      client.disconnect();
      if (Date.now() > deadline) throw new Error(`redis on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function spawnRedis(port: number, dir: string, extra: string[]): ChildProcess {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--databases",
      "16",
      ...extra,
    ],
    { stdio: "ignore" },
  );
  child.on("error", () => {});
  return child;
}

class PortTakenError extends Error {}

/**
 * Starts a redis-server on a port free right now, and on another one when the
 * port is taken between the check and the bind (other test processes pick
 * free ports too). A Cluster node also needs its bus port, the port plus
 * 10,000, free and below 65,536.
 */
async function startRedisOnFreePort(extra: string[], cluster: boolean): Promise<RedisInstance> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    if (cluster && (port + 10_000 > 65_535 || !(await isFree(port + 10_000)))) continue;
    try {
      return await startRedisOnPort(port, extra);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= 5) throw err;
    }
  }
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  // Plain listeners, not events.once: once(server, "listening") rejects on
  // "error", and raced against once(server, "error") that rejection won, so a
  // taken port threw EADDRINUSE out of the harness instead of answering false.
  const ok = await new Promise<boolean>((resolve) => {
    server.once("listening", () => resolve(true));
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1");
  });
  if (ok) {
    server.close();
    await once(server, "close");
  }
  return ok;
}

/** Starts one redis-server; `extra` adds command-line options. */
export async function startRedis(extra: string[] = []): Promise<RedisInstance> {
  return startRedisOnFreePort(extra, false);
}

/** A three-master Redis Cluster started by a test. */
export interface RedisCluster {
  nodes: { host: string; port: number }[];
  /** `host:port,host:port,...`, the form REDIS_CLUSTER_NODES takes. */
  seeds: string;
  /** The servers, in the order of `nodes`: kill one to fail a master, restart it to bring it back. */
  instances: RedisInstance[];
  stop(): Promise<void>;
}

/**
 * Starts three cluster-enabled redis-servers and joins them into one cluster;
 * `extra` adds command-line options to each, for example
 * `["--cluster-require-full-coverage", "no"]`. A restarted node keeps its
 * cluster configuration file, so it rejoins with its slots.
 */
export async function startRedisCluster(extra: string[] = []): Promise<RedisCluster> {
  const instances: RedisInstance[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      instances.push(
        await startRedisOnFreePort(
          [
            "--cluster-enabled",
            "yes",
            // One directory per node: the file name need not carry the port.
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
            ...extra,
          ],
          true,
        ),
      );
    }
    const addresses = instances.map((i) => `127.0.0.1:${i.port}`);
    const created = await run("redis-cli", [
      "--cluster",
      "create",
      ...addresses,
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    if (created.code !== 0)
      throw new Error(`cluster create failed: ${created.stdout}${created.stderr}`);
    await waitForClusterOk(instances.map((i) => i.port));
    return {
      nodes: instances.map((i) => ({ host: "127.0.0.1", port: i.port })),
      seeds: addresses.join(","),
      instances,
      async stop() {
        await Promise.all(instances.map((i) => i.stop()));
      },
    };
  } catch (err) {
    await Promise.all(instances.map((i) => i.stop()));
    throw err;
  }
}

async function startRedisOnPort(port: number, extra: string[]): Promise<RedisInstance> {
  const dir = mkdtempSync(join(tmpdir(), "otp-redis-"));
  let child = spawnRedis(port, dir, extra);
  try {
    await waitForPing(port, child);
  } catch (err) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      // The same directory: an append-only file, when enabled, brings the data back.
      child = spawnRedis(port, dir, extra);
      await waitForPing(port, child);
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForClusterOk(ports: number[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(
      ports.map(async (port) => {
        const info = await run("redis-cli", ["-p", String(port), "cluster", "info"]);
        return /cluster_state:ok/.test(info.stdout);
      }),
    );
    if (states.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error("cluster did not reach cluster_state:ok");
    await new Promise((r) => setTimeout(r, 100));
  }
}
