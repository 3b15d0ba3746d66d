import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Which side of a tenant a caller is on: browser (publishable) keys, or
 * servers (secret keys and anonymous development callers).
 */
export type CallerSide = "publishable" | "server";

/** The tenant of one call, and the records this call has already seen to be the tenant's. */
interface Scope {
  tenantId: string;
  side: CallerSide;
  owned: Set<string>;
  /** Usage counters this call has yet to count (see {@link deferUsage}). */
  usage: string[];
}

const storage = new AsyncLocalStorage<Scope>();

/**
 * Runs `fn` as the given tenant: everything it does, awaits included, sees
 * that tenant through {@link currentTenant}. The auth interceptor runs each
 * call this way, which is what scopes the store to the caller's tenant.
 * `side` says whether the caller holds a publishable key; it keeps idempotent
 * results apart ({@link currentIdempotencyScope}).
 *
 * @example
 * await runAsTenant("ten_123", () => next(req), "publishable");
 */
export function runAsTenant<T>(tenantId: string, fn: () => T, side: CallerSide = "server"): T {
  const current = storage.getStore();
  // A stream resumed in its call's scope keeps what that call already checked.
  if (current?.tenantId === tenantId && current.side === side) return fn();
  return storage.run({ tenantId, side, owned: new Set(), usage: [] }, fn);
}

/** The tenant of the call in progress; undefined in background work (deletions, callbacks). */
export function currentTenant(): string | undefined {
  return storage.getStore()?.tenantId;
}

/**
 * Names whose idempotency keys the call in progress uses: its tenant, and for
 * publishable-key callers a separate space within it. A browser key is
 * public, so it must never be handed (or learn of) the result of a server's
 * idempotent call by guessing or replaying its key. Scoped by kind rather
 * than by key id, so a server retrying across a secret-key rotation still
 * finds its first result. Server callers keep the plain tenant scope, so ids
 * derived before this split stay the same. Undefined outside a call.
 *
 * @example
 * createCodeHasher(secrets, { scope: currentIdempotencyScope });
 */
export function currentIdempotencyScope(): string | undefined {
  const scope = storage.getStore();
  if (scope === undefined) return undefined;
  // Tenant ids and idempotency keys hold no NUL, so this never equals a server scope's input.
  return scope.side === "publishable" ? `${scope.tenantId}\0publishable` : scope.tenantId;
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

/**
 * Leaves a usage counter of the call in progress to be counted by the store
 * step the call makes, so that counting costs no round trip of its own; what
 * no step takes is counted when the call ends ({@link takeDeferredUsage}).
 * False outside a call: count it at once instead.
 */
export function deferUsage(counter: string): boolean {
  const scope = storage.getStore();
  if (scope === undefined) return false;
  scope.usage.push(counter);
  return true;
}

/** Takes the usage counters the call in progress has deferred; each is taken once. */
export function takeDeferredUsage(): string[] {
  const scope = storage.getStore();
  if (scope === undefined || scope.usage.length === 0) return [];
  return scope.usage.splice(0);
}
