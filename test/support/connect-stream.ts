/**
 * A Connect server-stream read by hand: `fetch` with an enveloped JSON
 * request (one flag byte, a 4-byte big-endian length, the JSON), and the
 * response's envelopes decoded as they arrive, the way a caller in any
 * language with an HTTP library would watch a stream.
 */
export interface JsonStream {
  /** The messages received so far, parsed. */
  messages: Record<string, unknown>[];
  /** Every byte of the response as text, to search for what must not be there. */
  raw(): string;
  /** The end-of-stream message, once the stream ended. */
  end: Record<string, unknown> | undefined;
  /** Resolves with the first message (from now or before) that `match` accepts. */
  waitFor(
    match: (m: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  close(): void;
}

/** Opens a Connect server-stream with a JSON body. */
export async function openJsonStream(
  baseUrl: string,
  procedure: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonStream> {
  const json = Buffer.from(JSON.stringify(body));
  const envelope = Buffer.alloc(5 + json.length);
  envelope.writeUInt32BE(json.length, 1);
  json.copy(envelope, 5);
  const abort = new AbortController();
  const res = await fetch(`${baseUrl}/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/connect+json", ...headers },
    body: envelope,
    signal: abort.signal,
  });
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buffered = Buffer.alloc(0);
  let text = "";
  const stream: JsonStream = {
    messages,
    raw: () => text,
    end: undefined,
    async waitFor(match, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(match);
        if (found !== undefined) return found;
        if (stream.end !== undefined)
          throw new Error(`stream ended: ${JSON.stringify(stream.end)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching message in ${timeoutMs} ms: ${text}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () => abort.abort(),
  };
  void (async () => {
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 5) {
          const length = buffered.readUInt32BE(1);
          if (buffered.length < 5 + length) break;
          const flags = buffered[0] ?? 0;
          const payload = buffered.subarray(5, 5 + length).toString("utf8");
          buffered = buffered.subarray(5 + length);
          text += payload;
          const parsed = JSON.parse(payload) as Record<string, unknown>;
          if ((flags & 0x02) !== 0) stream.end = parsed;
          else messages.push(parsed);
          for (const wake of waiters.splice(0)) wake();
        }
      }
    } catch {
      // Closed by the test.
    }
    stream.end ??= {};
    for (const wake of waiters.splice(0)) wake();
  })();
  return stream;
}
