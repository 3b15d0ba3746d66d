import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evalScript, luaScript } from "../../src/store/redis/script-command.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";

let redis: RedisInstance;
let client: Redis;
let watcher: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  watcher = new Redis(redis.url);
});

afterAll(async () => {
  await Promise.all([client?.quit(), watcher?.quit()]);
  await redis?.stop();
});

// How often Redis ran each of EVAL and EVALSHA, from INFO commandstats.
async function evalCounts(): Promise<{ eval: number; evalsha: number }> {
  const info = await watcher.info("commandstats");
  const calls = (name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { eval: calls("eval"), evalsha: calls("evalsha") };
}

const counter = luaScript(
  "local n = redis.call('INCRBY', KEYS[1], ARGV[1]) return {tostring(n), KEYS[2] or '', ARGV[2] or ''}",
);

describe("evalScript", () => {
  it("runs a script Redis has never seen, sending it whole once, then by its SHA-1 only", async () => {
    await watcher.config("RESETSTAT");
    expect(await evalScript(client, counter, ["count:a"], ["2"])).toEqual(["2", "", ""]);
    expect(await evalScript(client, counter, ["count:a"], ["3"])).toEqual(["5", "", ""]);
    expect(await evalScript(client, counter, ["count:a"], ["1"])).toEqual(["6", "", ""]);
    // The first call's EVALSHA was refused, its EVAL cached the script; the others were EVALSHA.
    expect(await evalCounts()).toEqual({ eval: 1, evalsha: 3 });
  });

  it("passes keys and arguments apart, in order, with text replies", async () => {
    const reply = await evalScript(client, counter, ["count:b", "second key"], ["4", "ünïcødé"]);
    expect(reply).toEqual(["4", "second key", "ünïcødé"]);
  });

  it("still answers after Redis lost its scripts (a restart, a failover, SCRIPT FLUSH)", async () => {
    await evalScript(client, counter, ["count:c"], ["1"]);
    await watcher.script("FLUSH");
    await watcher.config("RESETSTAT");
    expect(await evalScript(client, counter, ["count:c"], ["1"])).toEqual(["2", "", ""]);
    expect(await evalCounts()).toEqual({ eval: 1, evalsha: 1 });
  });

  it("gives a script's own error to the caller, without sending the script again", async () => {
    const failing = luaScript("return redis.error_reply('REFUSED by the script')");
    await evalScript(client, failing, ["k"], []).catch(() => undefined);
    await watcher.config("RESETSTAT");
    await expect(evalScript(client, failing, ["k"], [])).rejects.toThrow("REFUSED by the script");
    expect(await evalCounts()).toEqual({ eval: 0, evalsha: 1 });
  });
});
