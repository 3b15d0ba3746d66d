/** Counting the AbortControllers made, for tests that a path makes none. */
export interface AbortControllerCount {
  /** How many were made through the global constructor since the count began. */
  made(): number;
  /** Puts the global constructor back. */
  restore(): void;
}

/** The global constructor as it was before any count began, for a test's own signals. */
export const RealAbortController = globalThis.AbortController;

/**
 * Replaces the global `AbortController` with a subclass that counts its
 * instances, until `restore()`. It sees what code makes through the global
 * (Connect, ours), not what Node's internals make with their own class.
 *
 * @example
 * const count = countAbortControllers();
 * try { await call(); expect(count.made()).toBe(0); } finally { count.restore(); }
 */
export function countAbortControllers(): AbortControllerCount {
  let made = 0;
  globalThis.AbortController = class extends RealAbortController {
    constructor() {
      super();
      made++;
    }
  };
  return {
    made: () => made,
    restore: () => {
      globalThis.AbortController = RealAbortController;
    },
  };
}
