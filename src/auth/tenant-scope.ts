import { AsyncLocalStorage } from "node:async_hooks";

/** The tenant of one call, and the records this call has already seen to be the tenant's. */
interface Scope {
  tenantId: string;
  owned: Set<string>;
}

const storage = new AsyncLocalStorage<Scope>();

/**
 * Runs `fn` as the given tenant: everything it does, awaits included, sees
 * that tenant through {@link currentTenant}. The auth interceptor runs each
 * call this way, which is what scopes the store to the caller's tenant.
 *
 * @example
 * await runAsTenant("ten_123", () => next(req));
 */
export function runAsTenant<T>(tenantId: string, fn: () => T): T {
  const current = storage.getStore();
  // A stream resumed in its call's scope keeps what that call already checked.
  if (current?.tenantId === tenantId) return fn();
  return storage.run({ tenantId, owned: new Set() }, fn);
}

/** The tenant of the call in progress; undefined in background work (deletions, callbacks). */
export function currentTenant(): string | undefined {
  return storage.getStore()?.tenantId;
}

/**
 * Remembers, for the rest of this call only, that a record was read and found
 * to be the tenant's, so a change that follows need not read it again.
 * Records never change tenant, so this cannot go stale within a call.
 */
export function rememberOwned(kind: string, id: string): void {
  storage.getStore()?.owned.add(`${kind}:${id}`);
}

/** True when this call already found the record to be its tenant's. */
export function knownOwned(kind: string, id: string): boolean {
  return storage.getStore()?.owned.has(`${kind}:${id}`) ?? false;
}
