import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The version of the service: `version` of the nearest package.json named
 * "otp-platform" above this module (in src/ or a compiled dist/), read once;
 * "unknown" when there is none.
 */
export function serviceVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === "otp-platform" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // No package.json here: look one folder up.
    }
    dir = dirname(dir);
  }
  return "unknown";
}

/** This process as the feed and health name it: `<pid>@<host>`. */
export function replicaName(): string {
  return `${process.pid}@${hostname()}`;
}

/** When this process started, in milliseconds since the epoch. */
export function processStartedAtMs(): number {
  return Math.round(performance.timeOrigin);
}
