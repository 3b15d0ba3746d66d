import { Cluster } from "ioredis";
import type { RedisClient } from "./topology.js";

/**
 * A connection of its own beside `client`, for work that waits rather than
 * answers a call: a pub/sub subscriber, or a reader blocked in XREAD. Unlike
 * the layout's connections, which fail fast while disconnected, it queues
 * commands until it is connected again; `commandTimeoutMs`, when given, must
 * outlast the longest block. Its errors are left to the commands that meet
 * them.
 *
 * @example
 * const reader = waitingConnection(client, 5_000);
 * await reader.xread("BLOCK", 2000, "STREAMS", key, "$");
 */
export function waitingConnection(client: RedisClient, commandTimeoutMs?: number): RedisClient {
  const timeout = commandTimeoutMs === undefined ? {} : { commandTimeout: commandTimeoutMs };
  const connection =
    client instanceof Cluster
      ? client.duplicate(undefined, {
          enableOfflineQueue: true,
          redisOptions: { ...client.options.redisOptions, enableOfflineQueue: true, ...timeout },
        })
      : client.duplicate({ enableOfflineQueue: true, ...timeout });
  connection.on("error", () => {});
  return connection;
}
