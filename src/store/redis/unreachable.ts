/**
 * Replies a Redis node sends while it cannot serve its keys: the cluster has
 * lost a master's slots, a replica lost its master, or the node is still
 * loading its data set.
 */
const unreachableReplies = /^(CLUSTERDOWN|MASTERDOWN|LOADING)\b/;

/** Socket errors that mean the node is gone or cannot be reached. */
const unreachableSocketCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * What ioredis (and rate-limiter-flexible over it) rejects a command with
 * when the node holding its key does not answer: a command timeout, a closed
 * or not-yet-ready connection, a cluster with no node to ask. Matched on the
 * message because ioredis throws plain `Error`s for most of them.
 */
const unreachableMessages = [
  /^Command timed out$/,
  /^Connection is closed\.?$/,
  /^Stream isn't writeable and enableOfflineQueue options is false$/,
  /^Cluster isn't ready and enableOfflineQueue options is false$/,
  /^Cluster is disconnect(ed|ing)\.?$/,
  /^None of startup nodes is available$/,
  /^Node is disconnected$/,
  /^Failed to refresh slots cache/,
  /^Redis connection is not ready$/,
  /^connect ETIMEDOUT$/,
  /^Socket timeout\./,
];

const unreachableNames = new Set(["MaxRetriesPerRequestError", "ClusterAllFailedError"]);

/**
 * Tells whether a Redis error means "the node holding this key cannot be
 * reached right now" (down, unreachable, timed out, its slots uncovered), as
 * opposed to an error in the command itself (a script error, a wrong type,
 * out of memory) or a refusal that retrying elsewhere would not fix.
 *
 * Only such errors may let a caller treat the key's node as absent, for
 * example to fail a per-IP limit open; every other error fails closed.
 *
 * @example
 * isUnreachableError(new Error("Command timed out")); // true
 * isUnreachableError(new Error("ERR Error running script")); // false
 */
export function isUnreachableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (unreachableNames.has(err.name)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && unreachableSocketCodes.has(code)) return true;
  const message = err.message;
  if (unreachableReplies.test(message)) return true;
  if (unreachableMessages.some((pattern) => pattern.test(message))) return true;
  // ioredis gives up on a key after too many redirections; the last reply says why.
  const redirected = /^Too many Cluster redirections\. Last error: (?:\w*Error: )?(.*)$/s.exec(
    message,
  );
  if (redirected !== null) return isUnreachableError(new Error(redirected[1]));
  return false;
}
