/** The request bodies of one scenario, in both encodings. */
export interface Payloads {
  /** Protobuf bytes, one per distinct request. */
  binary: Uint8Array[];
  /** Connect JSON text, one per distinct request, in the same order. */
  json: string[];
}

/** What one measured load run saw, from the load tool's side. */
export interface LoadResult {
  /** Calls completed in the run, divided by its length. */
  callsPerSecond: number;
  calls: number;
  p50Ms: number;
  p99Ms: number;
  /** Failures the load tool saw: transport errors, timeouts, non-2xx HTTP statuses. */
  clientErrors: number;
  /** The load tool's own counters, kept for the JSON report. */
  detail: Record<string, number>;
}

/** One procedure made ready for a load tool: run it for a while, as often as needed. */
export interface LoadTarget {
  run(seconds: number): Promise<LoadResult>;
  close(): Promise<void>;
}

/** A load tool speaking one protocol. */
export interface LoadDriver {
  /** For example "gRPC". */
  protocol: string;
  /** How the load is made, for the report header. */
  description: string;
  /** True when it can send a different body on each call; h2load sends one body file. */
  rotatesBodies: boolean;
  /** True when a failed RPC shows in what the tool counts (a non-2xx status), false for gRPC's trailers. */
  seesRpcErrors: boolean;
  prepare(baseUrl: string, procedure: string, payloads: Payloads): Promise<LoadTarget>;
}

/** The nearest-rank percentile of ascending `sorted` values; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}
