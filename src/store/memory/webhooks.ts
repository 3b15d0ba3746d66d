import type {
  EndpointHealth,
  WebhookAttemptRecord,
  WebhookEndpointRecord,
  WebhookStore,
} from "../../events/webhook-store.js";

/** The in-process {@link WebhookStore}: endpoints, failure streaks and recent attempts in maps. */
export function createMemoryWebhookStore(): WebhookStore {
  const endpoints = new Map<string, WebhookEndpointRecord>();
  const health = new Map<string, EndpointHealth>();
  const attempts = new Map<string, WebhookAttemptRecord[]>();
  const none: EndpointHealth = { consecutiveFailures: 0, failingSinceMs: 0 };
  return {
    async putEndpoint(record) {
      endpoints.set(record.id, structuredClone(record));
    },
    async getEndpoint(id) {
      const found = endpoints.get(id);
      return found === undefined ? undefined : structuredClone(found);
    },
    async listEndpoints(tenantId) {
      return [...endpoints.values()]
        .filter((e) => tenantId === undefined || e.tenantId === tenantId)
        .sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id))
        .map((e) => structuredClone(e));
    },
    async deleteEndpoint(id) {
      health.delete(id);
      attempts.delete(id);
      return endpoints.delete(id);
    },
    async recordOutcome(id, ok, nowMs) {
      const was = health.get(id) ?? none;
      const next = ok
        ? none
        : {
            consecutiveFailures: was.consecutiveFailures + 1,
            failingSinceMs: was.failingSinceMs === 0 ? nowMs : was.failingSinceMs,
          };
      if (ok) health.delete(id);
      else health.set(id, next);
      return { ...next };
    },
    async getHealth(id) {
      return { ...(health.get(id) ?? none) };
    },
    async recordAttempt(endpointId, attempt, keep) {
      const list = attempts.get(endpointId) ?? [];
      list.unshift({ ...attempt });
      list.length = Math.min(list.length, keep);
      attempts.set(endpointId, list);
    },
    async listAttempts(endpointId, limit) {
      return (attempts.get(endpointId) ?? []).slice(0, limit).map((a) => ({ ...a }));
    },
  };
}
