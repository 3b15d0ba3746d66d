/** One store node as a health check saw it. */
export interface StoreNodeHealth {
  /** The node, for example "127.0.0.1:6379/2", or "memory". */
  name: string;
  reachable: boolean;
  /** How long its answer took, in milliseconds. */
  latencyMs: number;
  /** Why it is unreachable, in a few fixed words; never a key or value. */
  error: string;
}

/**
 * Pings every node that holds a share of the store: each shard, or each
 * Cluster master. Declared here, implemented beside each store.
 */
export interface StoreNodes {
  /** The layout: "memory", "single", "db-range", "urls" or "cluster". */
  readonly layout: string;
  probe(): Promise<StoreNodeHealth[]>;
}

/** The {@link StoreNodes} of the in-memory store: one node, always there. */
export function memoryStoreNodes(): StoreNodes {
  return {
    layout: "memory",
    probe: async () => [{ name: "memory", reachable: true, latencyMs: 0, error: "" }],
  };
}
