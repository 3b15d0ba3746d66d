import { createHash } from "node:crypto";
import { Command } from "ioredis";
import type { RedisClient } from "./topology.js";

/** A Lua script and its SHA-1, the name Redis caches it under. */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

/** A script, its SHA-1 worked out once. */
export function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

// Replies as strings, as ioredis's own script commands give them.
const textReply = { replyEncoding: "utf8" } as const;

/**
 * Runs a script by its SHA-1 (`EVALSHA sha numkeys keys... args...`), the
 * command's arguments built in one array. When the server does not hold the
 * script (`NOSCRIPT`: a fresh or restarted Redis, a failover, `SCRIPT
 * FLUSH`), sends it whole once with `EVAL`, which caches it there again: one
 * extra round trip per script and server, never per call.
 *
 * Every Lua script of the Redis store runs through it. This is what
 * ioredis's `defineCommand` does, without its per-call costs,
 * paid on every Generate and Verify: it copies the arguments three times
 * (the command method's rest array, a spread to put the SHA first, the
 * command's own flattening), wraps the reply in a second promise for its
 * retry, and makes a closure each time the command is written.
 *
 * @example
 * const create = luaScript("return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])");
 * await evalScript(client, create, ["otp:challenge:{id}"], ["state", "pending"]);
 */
export async function evalScript(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  const argv = new Array<string>(2 + keys.length + args.length);
  argv[0] = script.sha;
  argv[1] = String(keys.length);
  let at = 2;
  for (const key of keys) argv[at++] = key;
  for (const arg of args) argv[at++] = arg;
  try {
    return await send(client, command("evalsha", argv));
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
    const whole = argv.slice();
    whole[0] = script.lua;
    return send(client, command("eval", whole));
  }
}

/**
 * A command holding `argv` itself. Made with no arguments and given them
 * after: the constructor copies what it is given with `Array.prototype.flat`,
 * which cost about 3 µs for a Generate's 30-odd strings, more than the rest
 * of the command's making; and its conversion of arguments to strings has
 * nothing to do for strings. `args` is the command's public field, read when
 * it is written to the socket or routed by its keys' slot, both later.
 */
function command(name: "evalsha" | "eval", argv: string[]): Command {
  const made = new Command(name, [], textReply);
  made.args = argv;
  return made;
}

// A Redis or a Cluster: the Cluster routes the command by its keys' slot.
const send = (client: RedisClient, command: Command) =>
  (client as { sendCommand(command: Command): Promise<unknown> }).sendCommand(command);
