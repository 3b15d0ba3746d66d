/**
 * Which side of a tenant a caller is on: browser (publishable) keys, or
 * servers (secret keys and anonymous development callers).
 */
export type CallerSide = "publishable" | "server";

/**
 * The tenant of one call, and what this call has already learnt. The auth
 * step makes one per call and the handlers hand it to the domains, which
 * hand it to the store (store/tenant-store.ts): that is what scopes every
 * read and change to the caller's tenant. It is passed, never looked up: an
 * `AsyncLocalStorage` would turn on async hooks for every promise of the
 * process (docs/hot-path.md). Background work (deletions, provider
 * callbacks, timers) has no scope and sees every record.
 */
export interface TenantScope {
  readonly tenantId: string;
  /** Keeps idempotent results of browser keys apart ({@link idempotencySpace}). */
  readonly side: CallerSide;
  /** Records this call has seen to be the tenant's; made on first use. */
  owned: Set<string> | undefined;
  /** Usage counters this call has yet to count ({@link deferUsage}); made on first use. */
  usage: string[] | undefined;
}

/**
 * A new scope for one call of `tenantId`.
 *
 * @example
 * const scope = newTenantScope("ten_123", "publishable");
 */
export function newTenantScope(tenantId: string, side: CallerSide = "server"): TenantScope {
  return { tenantId, side, owned: undefined, usage: undefined };
}

/**
 * Names whose idempotency keys a call uses: its tenant, and for publishable
 * key callers a separate space within it. A browser key is public, so it must
 * never be handed (or learn of) the result of a server's idempotent call by
 * guessing or replaying its key. Scoped by kind rather than by key id, so a
 * server retrying across a secret-key rotation still finds its first result.
 * Server callers keep the plain tenant, so ids derived before this split stay
 * the same. Undefined outside a call.
 */
export function idempotencySpace(scope: TenantScope | undefined): string | undefined {
  if (scope === undefined) return undefined;
  // Tenant ids and idempotency keys hold no NUL, so this never equals a server scope's input.
  return scope.side === "publishable" ? `${scope.tenantId}\0publishable` : scope.tenantId;
}

/**
 * Remembers, for the rest of this call only, that a record was read and found
 * to be the tenant's, so a change that follows need not read it again.
 * Records never change tenant, so this cannot go stale within a call.
 */
export function rememberOwned(scope: TenantScope | undefined, kind: string, id: string): void {
  if (scope === undefined) return;
  scope.owned ??= new Set();
  scope.owned.add(`${kind}:${id}`);
}

/** True when this call already found the record to be its tenant's. */
export function knownOwned(scope: TenantScope | undefined, kind: string, id: string): boolean {
  return scope?.owned?.has(`${kind}:${id}`) ?? false;
}

/**
 * Leaves a usage counter of the call to be counted by the store step the
 * call makes, so that counting costs no round trip of its own; what no step
 * takes is counted when the call ends ({@link takeDeferredUsage}).
 */
export function deferUsage(scope: TenantScope, counter: string): void {
  scope.usage ??= [];
  scope.usage.push(counter);
}

/** Takes the usage counters the call has deferred; each is taken once. */
export function takeDeferredUsage(scope: TenantScope | undefined): string[] {
  if (scope?.usage === undefined || scope.usage.length === 0) return [];
  return scope.usage.splice(0);
}
