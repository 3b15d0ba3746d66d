/**
 * The path of a request target, without its query: the target itself when it
 * has none, so the routing every request passes through (the console, the
 * demo, the key set, the probes, the mounts, the RPC paths) allocates nothing
 * on the way to the RPC handler. The one place the listener's handlers read it.
 *
 * @example
 * pathOf("/demo/app.js?v=3"); // "/demo/app.js"
 * pathOf(undefined); // "/"
 */
export function pathOf(target: string | undefined): string {
  if (target === undefined || target === "") return "/";
  const query = target.indexOf("?");
  return query < 0 ? target : target.slice(0, query);
}

/**
 * True when `path` is `prefix` or lies below it (`prefix/...`), not merely
 * starting with the same letters (`/demos`).
 *
 * @example
 * isUnder("/console/app.js", "/console"); // true
 * isUnder("/consoles", "/console"); // false
 */
export function isUnder(path: string, prefix: string): boolean {
  return (
    path.startsWith(prefix) &&
    (path.length === prefix.length || path.charCodeAt(prefix.length) === 47) /* "/" */
  );
}
