import type { ApiKeyKind } from "./api-key.js";
import type { TenantSettings } from "./tenant-settings.js";

/** What a key may do. */
export type ScopeName = "generate" | "verify" | "send" | "totp" | "admin-read" | "admin";

/** A customer of the service. */
export interface TenantRecord {
  id: string;
  name: string;
  createdAtMs: number;
  /** When the tenant was suspended; absent or 0 while it is active. Its keys are refused while suspended. */
  suspendedAtMs?: number;
  /**
   * What the tenant configured (tenancy/tenant-settings.ts), stored in the
   * tenant's own record so a key's credential carries it; absent: nothing set.
   */
  settings?: TenantSettings;
}

/** A stored API key: everything but the key itself, which is kept only as `hash`. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  kind: ApiKeyKind;
  scopes: ScopeName[];
  allowedOrigins: string[];
  name: string;
  createdAtMs: number;
  /** 0 while the key is live. */
  revokedAtMs: number;
  hash: string;
  /** When the key stops working; absent or 0 for a key that does not expire. */
  expiresAtMs?: number;
  /**
   * When the key was deleted; absent or 0 while it exists. A deleted key is
   * kept for {@link deletedKeyMemoryMs} as a tombstone, so its use can still
   * be told apart from an unknown key (and audited), then forgotten.
   */
  deletedAtMs?: number;
  /**
   * When the key was last used, as far as the store knows (last uses are
   * written in batches, see tenancy/key-use.ts); filled by `listApiKeys` only.
   */
  lastUsedAtMs?: number;
}

/** A key as authentication sees it: the key, and its tenant (undefined once the tenant is deleted). */
export interface Credential {
  key: ApiKeyRecord;
  tenant: TenantRecord | undefined;
}

/** What `updateTenant` changes: the fields given. */
export interface TenantChange {
  name?: string;
  /** 0 resumes the tenant; a time suspends it (a suspended tenant keeps its first suspension time). */
  suspendedAtMs?: number;
  /** The tenant's settings, replaced whole (validated before). */
  settings?: TenantSettings;
}

/** How long a deleted key's tombstone answers for it: 90 days. */
export const deletedKeyMemoryMs = 90 * 86_400_000;

/**
 * Tenants and API keys. These are configuration, kept until an operator
 * removes them, so unlike challenge state they carry no expiry (deleted
 * keys aside, see {@link deletedKeyMemoryMs}). The service reads keys through
 * the per-process cache of tenancy/cached-admin-store.ts, which every
 * change below clears on every replica.
 */
export interface AdminStore {
  createTenant(tenant: TenantRecord): Promise<void>;
  getTenant(id: string): Promise<TenantRecord | undefined>;
  listTenants(): Promise<TenantRecord[]>;
  /** Renames, suspends or resumes a tenant; returns it changed, or undefined for an unknown id. */
  updateTenant(id: string, change: TenantChange): Promise<TenantRecord | undefined>;
  /** Deletes a tenant and every key it has; returns what was deleted, or undefined for an unknown id. */
  deleteTenant(
    id: string,
    nowMs: number,
  ): Promise<{ tenant: TenantRecord; keys: ApiKeyRecord[] } | undefined>;
  createApiKey(key: ApiKeyRecord): Promise<void>;
  /** The key whose hash this is, revoked, expired or deleted (while its tombstone lasts) or not. */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** The key whose hash this is and its tenant, read together for authentication. */
  findCredential(hash: string): Promise<Credential | undefined>;
  /** A tenant's keys, deleted ones left out, with their last use. */
  listApiKeys(tenantId: string): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; returns it, or undefined for an unknown or deleted id. */
  revokeApiKey(id: string, nowMs: number): Promise<ApiKeyRecord | undefined>;
  /** Deletes a key (revoking it first); returns it, or undefined for an unknown or deleted id. */
  deleteApiKey(id: string, nowMs: number): Promise<ApiKeyRecord | undefined>;
  /** Records last uses, key id to time, in one batch; a time older than the one stored is ignored. */
  recordKeyUses(uses: ReadonlyMap<string, number>): Promise<void>;
  /** True when a live publishable key lists this browser origin, so CORS may answer it. */
  isOriginAllowed(origin: string): Promise<boolean>;
}

/** Reads a key and then its tenant: how a store without a better way answers `findCredential`. */
export async function readCredential(
  store: Pick<AdminStore, "findApiKeyByHash" | "getTenant">,
  hash: string,
): Promise<Credential | undefined> {
  const key = await store.findApiKeyByHash(hash);
  if (key === undefined) return undefined;
  return { key, tenant: await store.getTenant(key.tenantId) };
}

// The records of the embedded admin store.
interface MemoryAdminState {
  now: () => number;
  tenants: Map<string, TenantRecord>;
  keys: Map<string, ApiKeyRecord>;
  byHash: Map<string, string>;
  lastUses: Map<string, number>;
  /** When each deleted key's tombstone goes, by the store's clock (as Redis expires it). */
  tombstoneUntil: Map<string, number>;
}

/** The embedded admin store, for the in-memory configuration. */
export function createMemoryAdminStore(options: { now?: () => number } = {}): AdminStore {
  const state: MemoryAdminState = {
    now: options.now ?? Date.now,
    tenants: new Map(),
    keys: new Map(),
    byHash: new Map(),
    lastUses: new Map(),
    tombstoneUntil: new Map(),
  };
  const store: AdminStore = {
    ...memoryTenants(state),
    ...memoryKeys(state),
    findCredential: (hash) => readCredential(store, hash),
  };
  return store;
}

// Revokes and tombstones a key in place; returns a copy.
function deleteMemoryKey(state: MemoryAdminState, key: ApiKeyRecord, nowMs: number): ApiKeyRecord {
  if (key.revokedAtMs === 0) key.revokedAtMs = nowMs;
  key.deletedAtMs = nowMs;
  state.lastUses.delete(key.id);
  state.tombstoneUntil.set(key.id, state.now() + deletedKeyMemoryMs);
  return structuredClone(key);
}

function memoryTenants(
  state: MemoryAdminState,
): Pick<
  AdminStore,
  "createTenant" | "getTenant" | "listTenants" | "updateTenant" | "deleteTenant"
> {
  const { tenants, keys } = state;
  return {
    async createTenant(tenant) {
      tenants.set(tenant.id, { ...tenant });
    },
    async getTenant(id) {
      const t = tenants.get(id);
      return t === undefined ? undefined : { ...t };
    },
    async listTenants() {
      return [...tenants.values()]
        .sort((a, b) => a.createdAtMs - b.createdAtMs)
        .map((t) => ({ ...t }));
    },
    async updateTenant(id, change) {
      const tenant = tenants.get(id);
      if (tenant === undefined) return undefined;
      Object.assign(tenant, applyTenantChange(tenant, change));
      return { ...tenant };
    },
    async deleteTenant(id, nowMs) {
      const tenant = tenants.get(id);
      if (tenant === undefined) return undefined;
      tenants.delete(id);
      const deleted = [...keys.values()]
        .filter((k) => k.tenantId === id && !k.deletedAtMs)
        .map((k) => deleteMemoryKey(state, k, nowMs));
      return { tenant: { ...tenant }, keys: deleted };
    },
  };
}

function memoryKeys(
  state: MemoryAdminState,
): Omit<AdminStore, keyof ReturnType<typeof memoryTenants> | "findCredential"> {
  const { keys, byHash, lastUses } = state;
  // A deleted key answers as a tombstone for a while, then is forgotten.
  const live = (key: ApiKeyRecord | undefined): ApiKeyRecord | undefined => {
    if (key === undefined || !key.deletedAtMs) return key;
    if (state.now() < (state.tombstoneUntil.get(key.id) ?? 0)) return key;
    state.tombstoneUntil.delete(key.id);
    keys.delete(key.id);
    byHash.delete(key.hash);
    return undefined;
  };
  return {
    async createApiKey(key) {
      keys.set(key.id, structuredClone(key));
      byHash.set(key.hash, key.id);
    },
    async findApiKeyByHash(hash) {
      const id = byHash.get(hash);
      const key = live(id === undefined ? undefined : keys.get(id));
      return key === undefined ? undefined : structuredClone(key);
    },
    async listApiKeys(tenantId) {
      return [...keys.values()]
        .filter((k) => k.tenantId === tenantId && !k.deletedAtMs)
        .sort((a, b) => a.createdAtMs - b.createdAtMs)
        .map((k) => {
          const used = lastUses.get(k.id);
          return used === undefined
            ? structuredClone(k)
            : { ...structuredClone(k), lastUsedAtMs: used };
        });
    },
    async revokeApiKey(id, nowMs) {
      const key = keys.get(id);
      if (key === undefined || key.deletedAtMs) return undefined;
      if (key.revokedAtMs === 0) key.revokedAtMs = nowMs;
      return structuredClone(key);
    },
    async deleteApiKey(id, nowMs) {
      const key = keys.get(id);
      if (key === undefined || key.deletedAtMs) return undefined;
      return deleteMemoryKey(state, key, nowMs);
    },
    async recordKeyUses(uses) {
      for (const [id, at] of uses) {
        const key = keys.get(id);
        if (key === undefined || key.deletedAtMs) continue;
        lastUses.set(id, Math.max(lastUses.get(id) ?? 0, at));
      }
    },
    async isOriginAllowed(origin) {
      for (const key of keys.values()) {
        if (
          key.kind === "publishable" &&
          key.revokedAtMs === 0 &&
          key.allowedOrigins.includes(origin)
        ) {
          return true;
        }
      }
      return false;
    },
  };
}

/**
 * The fields a change sets on a tenant: a new name; a suspension time, kept
 * from the first suspension while the tenant stays suspended; 0 to resume.
 */
export function applyTenantChange(tenant: TenantRecord, change: TenantChange): TenantRecord {
  const out = { ...tenant };
  if (change.name !== undefined) out.name = change.name;
  if (change.settings !== undefined) out.settings = change.settings;
  if (change.suspendedAtMs !== undefined) {
    out.suspendedAtMs =
      change.suspendedAtMs === 0 ? 0 : tenant.suspendedAtMs || change.suspendedAtMs;
  }
  return out;
}
