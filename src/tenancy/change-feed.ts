/**
 * Tells every replica that something it may have cached changed: an API key
 * revoked, later a tenant's settings. Messages carry only an opaque topic
 * (such as `key:<hash of the key>`), never a secret.
 */
export interface ChangeFeed {
  /** Announces a change to every replica, this one included. */
  publish(topic: string): Promise<void>;
  /**
   * Calls `onChange` for every topic published from now on, and `onGap` when
   * messages may have been missed (the connection dropped and came back):
   * whoever caches should then forget everything.
   */
  subscribe(onChange: (topic: string) => void, onGap: () => void): Promise<void>;
  close(): Promise<void>;
}

/** The feed of a single process (the in-memory store): a change reaches only this process, which is all there is. */
export function createLocalChangeFeed(): ChangeFeed {
  const listeners: ((topic: string) => void)[] = [];
  return {
    async publish(topic) {
      for (const listener of listeners) listener(topic);
    },
    async subscribe(onChange) {
      listeners.push(onChange);
    },
    async close() {
      listeners.length = 0;
    },
  };
}
