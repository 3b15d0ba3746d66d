/** What an activity event is about. */
export type ActivityKindName = "generate" | "verify" | "delivery" | "rate_limited" | "admin";

const kindNames: ReadonlySet<string> = new Set([
  "generate",
  "verify",
  "delivery",
  "rate_limited",
  "admin",
]);

/**
 * One thing that happened, as the feed carries it. It holds masked
 * recipients only, never a code, a secret or a full recipient; every string
 * is bounded before it is queued.
 */
export interface ActivityEvent {
  kind: ActivityKindName;
  atMs: number;
  tenantId: string;
  /** The verify result, delivery status, limit name, or admin outcome. */
  outcome: string;
  channel: string;
  /** Already masked by the one who publishes (delivery/mask.ts). */
  recipientMasked: string;
  challengeId: string;
  /** The process that saw it, as `<pid>@<host>`. */
  replica: string;
  /** Admin events: the action, for example "tenant.create". */
  action: string;
  /** Admin events: what the action acted on, for example a key id; never a secret. */
  target: string;
  /** Admin events: who acted, "operator" or a key id. */
  actor: string;
}

const maxLength = 200;
const text = (value: unknown) =>
  typeof value === "string" ? (value.length > maxLength ? value.slice(0, maxLength) : value) : "";

/**
 * An event with every field of the right type and bounded in length; a kind
 * this version does not know, undefined. Events arriving from other
 * replicas go through it too.
 */
export function readEvent(raw: unknown): ActivityEvent | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const e = raw as Record<string, unknown>;
  if (typeof e.kind !== "string" || !kindNames.has(e.kind)) return undefined;
  return {
    kind: e.kind as ActivityKindName,
    atMs: typeof e.atMs === "number" && Number.isFinite(e.atMs) ? e.atMs : 0,
    tenantId: text(e.tenantId),
    outcome: text(e.outcome),
    channel: text(e.channel),
    recipientMasked: text(e.recipientMasked),
    challengeId: text(e.challengeId),
    replica: text(e.replica),
    action: text(e.action),
    target: text(e.target),
    actor: text(e.actor),
  };
}

/** The event with its strings bounded; see {@link readEvent}. */
export function boundedEvent(event: ActivityEvent): ActivityEvent {
  const long = (f: string) => f.length > maxLength;
  // Events made by this process are short; copy only one that is not.
  const anyLong =
    long(event.tenantId) ||
    long(event.outcome) ||
    long(event.channel) ||
    long(event.recipientMasked) ||
    long(event.challengeId) ||
    long(event.replica) ||
    long(event.action) ||
    long(event.target) ||
    long(event.actor);
  return anyLong ? (readEvent(event) ?? event) : event;
}
