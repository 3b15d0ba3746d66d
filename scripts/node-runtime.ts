import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const cacheRoot = fileURLToPath(new URL("../node_modules/.cache/node-runtime/", import.meta.url));

/**
 * A Node.js binary of another major version than the machine's, for running
 * the compiled service the way the Docker image does (its `NODE_IMAGE`) on a
 * machine that has only its own Node. It comes from the npm registry, the one
 * registry our machines reach: `node-<os>-<arch>` is the package that carries
 * Node's own release binary (npm's `node` package installs from it). Fetched
 * once into `node_modules/.cache/node-runtime/<major>/`.
 *
 * Returns this process's own `node` when it already is that major.
 *
 * @example
 * await nodeRuntime("24"); // ".../node_modules/.cache/node-runtime/24/package/bin/node"
 */
export async function nodeRuntime(major: string): Promise<string> {
  if (!/^\d+$/.test(major))
    throw new Error(`expected a Node.js major version such as 24, not "${major}"`);
  if (process.versions.node.split(".")[0] === major) return process.execPath;
  const dir = join(cacheRoot, major);
  const bin = join(dir, "package", "bin", "node");
  if (existsSync(bin)) return bin;

  // Unpacked beside the cache and renamed into place, so an interrupted fetch
  // never leaves a half-written binary where the next run would take it.
  const unpacking = `${dir}.partial-${process.pid}`;
  await rm(unpacking, { recursive: true, force: true });
  await mkdir(unpacking, { recursive: true });
  try {
    const spec = `node-${process.platform}-${process.arch}@${major}`;
    await run("npm", ["pack", spec, "--pack-destination", unpacking, "--silent"], {
      maxBuffer: 1 << 20,
    });
    const tarball = (await readdir(unpacking)).find((f) => f.endsWith(".tgz"));
    if (tarball === undefined) throw new Error(`npm pack ${spec} left no tarball`);
    await run("tar", ["xzf", join(unpacking, tarball), "-C", unpacking]);
    await rm(join(unpacking, tarball));
    await rm(dir, { recursive: true, force: true });
    await rename(unpacking, dir);
  } finally {
    await rm(unpacking, { recursive: true, force: true });
  }
  return bin;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const major = process.argv[2] ?? "";
  try {
    process.stdout.write(`${await nodeRuntime(major)}\n`);
  } catch (err) {
    process.stderr.write(`node-runtime: ${err instanceof Error ? err.message : String(err)}\n`);
    process.stderr.write(
      "usage: npx tsx scripts/node-runtime.ts MAJOR   (prints the path of its node binary)\n",
    );
    process.exit(1);
  }
}
