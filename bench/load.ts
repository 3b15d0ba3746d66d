/** One call to put under load, in both encodings, with the headers every call sends. */
export interface LoadCall {
  /** `package.Service/Method`. */
  procedure: string;
  /** Protobuf bytes of the request (gRPC). */
  binary: Uint8Array;
  /** Connect JSON text of the request. */
  json: string;
  /** Extra request headers, for example `authorization`. */
  headers: Record<string, string>;
}

/** How to load: closed loop as fast as the service answers, or paced at a fixed rate. */
export interface LoadShape {
  seconds: number;
  connections: number;
  /** Calls per second across all connections; undefined for as fast as possible. */
  rate?: number;
}

/** What one load run saw, from the load tool's side. */
export interface LoadResult {
  /** Completed calls divided by the run's length. */
  callsPerSecond: number;
  calls: number;
  p50Ms: number;
  p99Ms: number;
  /** Failures the tool saw: transport errors, timeouts, non-2xx HTTP statuses. */
  clientErrors: number;
}

/** A load tool speaking one protocol. */
export interface LoadDriver {
  /** For example "gRPC". */
  protocol: string;
  /** How the load is made, for the report header. */
  description: string;
  /** True when a failed RPC shows in what the tool counts (a non-2xx status); false for gRPC's trailers. */
  seesRpcErrors: boolean;
  /** Checks the call once and gets ready to send it. */
  prepare(baseUrl: string, call: LoadCall): Promise<LoadTarget>;
}

/** One call made ready for a load tool: run it as often as needed. */
export interface LoadTarget {
  run(shape: LoadShape): Promise<LoadResult>;
  close(): Promise<void>;
}

/** The nearest-rank percentile of ascending `sorted` values; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}
