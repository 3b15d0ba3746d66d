import { Redis } from "ioredis";

/**
 * Opens WatchEvents with hand-framed Connect streaming (JSON) and keeps the
 * raw text of what it streams, until `stop` is called.
 */
export function captureEventStream(
  url: string,
  token: string,
  request: Record<string, unknown> = {},
): { text: () => string; stop: () => void } {
  const abort = new AbortController();
  const body = Buffer.from(JSON.stringify(request));
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);
  let text = "";
  void (async () => {
    const res = await fetch(`${url}/otp.v1.AdminService/WatchEvents`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", authorization: `Bearer ${token}` },
      body: frame,
      signal: abort.signal,
    });
    const decoder = new TextDecoder();
    for await (const chunk of res.body ?? []) text += decoder.decode(chunk as Uint8Array);
  })().catch(() => {});
  return { text: () => text, stop: () => abort.abort() };
}

/** Every key matching `pattern` in Redis with its contents, whatever its type, as text. */
export async function dumpRedisKeys(url: string, pattern: string): Promise<string> {
  const client = new Redis(url);
  try {
    const out: unknown[] = [];
    for (const key of await client.keys(pattern)) {
      const type = await client.type(key);
      if (type === "stream") out.push(key, await client.xrange(key, "-", "+"));
      else if (type === "hash") out.push(key, await client.hgetall(key));
      else if (type === "list") out.push(key, await client.lrange(key, 0, -1));
      else if (type === "zset") out.push(key, await client.zrange(key, 0, -1, "WITHSCORES"));
      else if (type === "string") out.push(key, await client.get(key));
    }
    return JSON.stringify(out);
  } finally {
    client.disconnect();
  }
}
