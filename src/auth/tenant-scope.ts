import { AsyncLocalStorage } from "node:async_hooks";

const storage = new AsyncLocalStorage<string>();

/**
 * Runs `fn` as the given tenant: everything it does, awaits included, sees
 * that tenant through {@link currentTenant}. The auth interceptor runs each
 * call this way, which is what scopes the store to the caller's tenant.
 *
 * @example
 * await runAsTenant("ten_123", () => next(req));
 */
export function runAsTenant<T>(tenantId: string, fn: () => T): T {
  return storage.run(tenantId, fn);
}

/** The tenant of the call in progress; undefined in background work (deletions, callbacks). */
export function currentTenant(): string | undefined {
  return storage.getStore();
}
