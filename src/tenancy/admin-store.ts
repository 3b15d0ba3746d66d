import type { ApiKeyKind } from "./api-key.js";

/** What a key may do. */
export type ScopeName = "generate" | "verify" | "send" | "totp" | "admin-read" | "admin";

/** A customer of the service. */
export interface TenantRecord {
  id: string;
  name: string;
  createdAtMs: number;
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
}

/**
 * Tenants and API keys. These are configuration, kept until an operator
 * removes them, so unlike challenge state they carry no expiry. Nothing here
 * is cached: a revoked key fails on the next call, on every replica.
 */
export interface AdminStore {
  createTenant(tenant: TenantRecord): Promise<void>;
  getTenant(id: string): Promise<TenantRecord | undefined>;
  listTenants(): Promise<TenantRecord[]>;
  createApiKey(key: ApiKeyRecord): Promise<void>;
  /** The key whose hash this is, revoked or not. */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(tenantId: string): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; returns it, or undefined for an unknown id. */
  revokeApiKey(id: string, nowMs: number): Promise<ApiKeyRecord | undefined>;
  /** True when a live publishable key lists this browser origin, so CORS may answer it. */
  isOriginAllowed(origin: string): Promise<boolean>;
}

/** The embedded admin store, for the in-memory configuration. */
export function createMemoryAdminStore(): AdminStore {
  const tenants = new Map<string, TenantRecord>();
  const keys = new Map<string, ApiKeyRecord>();
  const byHash = new Map<string, string>();
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
    async createApiKey(key) {
      keys.set(key.id, structuredClone(key));
      byHash.set(key.hash, key.id);
    },
    async findApiKeyByHash(hash) {
      const id = byHash.get(hash);
      const key = id === undefined ? undefined : keys.get(id);
      return key === undefined ? undefined : structuredClone(key);
    },
    async listApiKeys(tenantId) {
      return [...keys.values()]
        .filter((k) => k.tenantId === tenantId)
        .sort((a, b) => a.createdAtMs - b.createdAtMs)
        .map((k) => structuredClone(k));
    },
    async revokeApiKey(id, nowMs) {
      const key = keys.get(id);
      if (key === undefined) return undefined;
      if (key.revokedAtMs === 0) key.revokedAtMs = nowMs;
      return structuredClone(key);
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
