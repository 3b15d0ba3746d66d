// Compiles the service to JavaScript for production: tsc with tsconfig.build.json into
// dist/ (or the folder given as the first argument), then copies what src/ holds besides
// TypeScript (preloads, Lua scripts) beside the compiled modules, so they load as in src/,
// and bundles the operator console (console/) into dist/console/, which production serves
// as is (esbuild, a development dependency, is not installed there).
//
//   node scripts/build-service.mjs            # dist/
//   node scripts/build-service.mjs /tmp/out   # elsewhere (tests)
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const out = resolve(process.argv[2] ?? join(root, "dist"));
rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", out],
  { cwd: root, stdio: "inherit" },
);
const src = join(root, "src");
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || /\.(ts|md)$/.test(entry.name)) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join(out, "src", relative(src, from)));
}
// The console, bundled by the same code that bundles it at start in development.
const { tsImport } = await import("tsx/esm/api");
const { bundlePage } = await tsImport("../src/http/page-bundle.ts", import.meta.url);
const consoleOut = join(out, "console");
mkdirSync(consoleOut, { recursive: true });
const { files } = await bundlePage(join(root, "console"), "/console");
for (const [urlPath, file] of files) {
  const name = urlPath === "/console" ? "index.html" : urlPath.slice("/console/".length);
  writeFileSync(join(consoleOut, name), file.body);
}
console.log(
  `build-service: compiled to ${relative(root, out) || "."}, console bundled into ${relative(root, consoleOut)}`,
);
