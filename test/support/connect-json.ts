/**
 * A Connect client written by hand: `fetch` with hand-built JSON, the way a
 * caller in any language with an HTTP library would talk to the service.
 */
export interface JsonReply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** Calls a unary procedure with the Connect protocol and a JSON body. */
export async function callJson(
  baseUrl: string,
  procedure: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonReply> {
  const res = await fetch(`${baseUrl}/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-protocol-version": "1", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : JSON.parse(text), headers: res.headers };
}

/** Decodes the `google.rpc.ErrorInfo` reason from a Connect JSON error, by hand. */
export function errorReason(body: Record<string, unknown>): string | undefined {
  const details = (body.details ?? []) as { type: string; value: string }[];
  const info = details.find((d) => d.type === "google.rpc.ErrorInfo");
  if (info === undefined) return undefined;
  // ErrorInfo.reason is field 1, a string: tag 0x0a, a one-byte length, the bytes.
  const bytes = Buffer.from(info.value, "base64");
  if (bytes[0] !== 0x0a) return undefined;
  const length = bytes[1] ?? 0;
  return bytes.subarray(2, 2 + length).toString("utf8");
}

/** Decodes the `google.rpc.RetryInfo` delay in seconds from a Connect JSON error, by hand. */
export function retryDelaySeconds(body: Record<string, unknown>): number | undefined {
  const details = (body.details ?? []) as { type: string; value: string }[];
  const info = details.find((d) => d.type === "google.rpc.RetryInfo");
  if (info === undefined) return undefined;
  // RetryInfo { Duration retry_delay = 1 } -> 0x0a len { int64 seconds = 1 (0x08 varint) ... }
  const bytes = Buffer.from(info.value, "base64");
  if (bytes[0] !== 0x0a || bytes[2] !== 0x08) return 0;
  let value = 0;
  let shift = 0;
  for (let i = 3; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  return value;
}
