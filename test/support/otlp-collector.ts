import { once } from "node:events";
import { createServer, type Server } from "node:http";

/** One span as an OTLP/HTTP JSON exporter sends it, flattened. */
export interface CollectedSpan {
  scope: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  kind: number;
  status: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  events: unknown[];
}

/** A local OTLP/HTTP receiver (JSON encoding) that keeps every span and every raw body. */
export interface OtlpCollector {
  url: string;
  spans: CollectedSpan[];
  /** Every request body as received, for searching for secrets. */
  raw: string[];
  close(): Promise<void>;
}

function attributeValue(v: Record<string, unknown>): unknown {
  return v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue ?? JSON.stringify(v);
}

/** Starts an {@link OtlpCollector} on a free port of 127.0.0.1. */
export async function startOtlpCollector(): Promise<OtlpCollector> {
  const spans: CollectedSpan[] = [];
  const raw: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    req.on("end", () => {
      raw.push(body);
      try {
        const parsed = JSON.parse(body) as {
          resourceSpans?: {
            scopeSpans: {
              scope: { name: string };
              spans: (Omit<CollectedSpan, "scope" | "attributes"> & {
                attributes?: { key: string; value: Record<string, unknown> }[];
              })[];
            }[];
          }[];
        };
        for (const rs of parsed.resourceSpans ?? []) {
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              spans.push({
                ...s,
                scope: ss.scope.name,
                parentSpanId: s.parentSpanId ?? "",
                status: s.status ?? {},
                events: s.events ?? [],
                attributes: Object.fromEntries(
                  (s.attributes ?? []).map((a) => [a.key, attributeValue(a.value)]),
                ),
              });
            }
          }
        }
      } catch {
        // Not JSON: kept in `raw` only.
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    spans,
    raw,
    async close() {
      server.close();
      await once(server, "close");
    },
  };
}

/** Waits until `predicate` holds for the collected spans, polling briefly. */
export async function waitForSpans(
  collector: OtlpCollector,
  predicate: (spans: CollectedSpan[]) => boolean,
): Promise<CollectedSpan[]> {
  for (let i = 0; i < 100; i++) {
    if (predicate(collector.spans)) return collector.spans;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`spans never arrived; have: ${collector.spans.map((s) => s.name).join(", ")}`);
}
