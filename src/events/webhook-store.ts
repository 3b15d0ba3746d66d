// Declared by the domain that uses it (DESIGN.md): store/memory and
// store/redis implement it, and test/contract/webhook-store-contract.ts holds both to it.

/** One signing secret of an endpoint, sealed at rest (core/secret-box.ts). */
export interface WebhookSecretRecord {
  /** Short id naming the secret in listings; never the secret. */
  id: string;
  /** The `whsec_...` secret sealed with the endpoint id as context. */
  sealed: string;
  createdAtMs: number;
  /** 0 while current; otherwise when a rotated-out secret stops signing. */
  expiresAtMs: number;
}

/** A tenant's webhook endpoint. */
export interface WebhookEndpointRecord {
  id: string;
  tenantId: string;
  url: string;
  /** The event types sent; empty means every type. */
  eventTypes: string[];
  description: string;
  secrets: WebhookSecretRecord[];
  createdAtMs: number;
  /** 0 while enabled. */
  disabledAtMs: number;
  disabledReason: string;
}

/** The failure streak of an endpoint, as {@link WebhookStore.recordOutcome} leaves it. */
export interface EndpointHealth {
  /** Failed attempts in a row (0 after a success). */
  consecutiveFailures: number;
  /** When the streak began; 0 when there is none. */
  failingSinceMs: number;
}

/** One delivery attempt, as ListWebhookAttempts shows it. */
export interface WebhookAttemptRecord {
  messageId: string;
  eventType: string;
  attempt: number;
  atMs: number;
  /** The HTTP status the endpoint answered; 0 when none (refused, timed out, unreachable). */
  httpStatus: number;
  outcome: "delivered" | "failed" | "gave_up" | "refused";
  durationMs: number;
  /** A short machine-readable cause for a failure, such as "timeout" or "address_refused". */
  error: string;
}

/** Endpoints, their failure streaks and their recent attempts. */
export interface WebhookStore {
  putEndpoint(record: WebhookEndpointRecord): Promise<void>;
  getEndpoint(id: string): Promise<WebhookEndpointRecord | undefined>;
  /** A tenant's endpoints, or every endpoint when `tenantId` is undefined. */
  listEndpoints(tenantId: string | undefined): Promise<WebhookEndpointRecord[]>;
  /** Removes an endpoint with its health and attempts; false when it did not exist. */
  deleteEndpoint(id: string): Promise<boolean>;
  /** Counts a failure (extending the streak) or a success (ending it), atomically. */
  recordOutcome(id: string, ok: boolean, nowMs: number): Promise<EndpointHealth>;
  getHealth(id: string): Promise<EndpointHealth>;
  /** Appends an attempt, keeping the newest `keep` per endpoint. */
  recordAttempt(endpointId: string, attempt: WebhookAttemptRecord, keep: number): Promise<void>;
  /** The newest attempts first, at most `limit`. */
  listAttempts(endpointId: string, limit: number): Promise<WebhookAttemptRecord[]>;
}
