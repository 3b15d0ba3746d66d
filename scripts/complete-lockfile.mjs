// Adds lock entries for the other platforms' binaries of biome and buf.
//
// The registry reachable from our machines lacks those packages, so `npm
// install` here writes a lock without them, and `npm ci` then refuses the lock
// as out of sync. Each entry added is what a full registry would record,
// minus the integrity hash; npm skips them on non-matching platforms.
// Run after any `npm install` that rewrites package-lock.json.
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const packages = lock.packages;
let added = 0;
for (const parent of ["@biomejs/biome", "@bufbuild/buf"]) {
  const entry = packages[`node_modules/${parent}`];
  for (const [name, version] of Object.entries(entry?.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] !== undefined) continue;
    const match = /-(darwin|win32|linux|android|freebsd)-(x64|arm64|armv7|arm)(-musl)?$/.exec(name);
    if (match === null) continue;
    packages[key] = {
      version,
      resolved: `https://registry.npmjs.org/${name}/-/${name.split("/")[1]}-${version}.tgz`,
      cpu: [match[2] === "armv7" ? "arm" : match[2]],
      dev: true,
      ...(match[3] ? { libc: ["musl"] } : {}),
      license: entry.license,
      optional: true,
      os: [match[1]],
    };
    added += 1;
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
