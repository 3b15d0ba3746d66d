import { readdir, readFile, stat } from "node:fs/promises";
import type * as http from "node:http";
import type * as http2 from "node:http2";
import * as path from "node:path";

/** A built page: its files by URL path, and the sources it was built from. */
export interface PageAssets {
  files: Map<string, { contentType: string; body: Uint8Array }>;
  /** Every source file the build read, for rebuilding after an edit. */
  inputs: string[];
}

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** The content type of a page file, by its extension. */
export function contentTypeOf(name: string): string {
  return contentTypes[path.extname(name)] ?? "application/octet-stream";
}

/**
 * The headers of every page file: a page talks only to its own origin, loads
 * nothing from elsewhere and may not be framed.
 */
export const pageSecurityHeaders: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/**
 * Bundles a page with esbuild: `main.ts` as `app.js` for browsers, its
 * `styles.css`, and `index.html` as is, served at `basePath`. esbuild is a
 * development dependency, loaded only here, so a production install never
 * needs it (production serves what `npm run build:service` built).
 *
 * @example
 * const { files } = await bundlePage("/abs/demo/", "/demo");
 * files.get("/demo/app.js");
 */
export async function bundlePage(sourceDir: string, basePath: string): Promise<PageAssets> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: {
      app: path.join(sourceDir, "main.ts"),
      styles: path.join(sourceDir, "styles.css"),
    },
    outdir: "/page-out",
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome110", "firefox110", "safari16"],
    minify: true,
    sourcemap: "linked",
    metafile: true,
    logLevel: "silent",
    absWorkingDir: sourceDir,
  });
  const files: PageAssets["files"] = new Map();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    files.set(`${basePath}/${name}`, { contentType: contentTypeOf(name), body: file.contents });
  }
  const htmlPath = path.join(sourceDir, "index.html");
  files.set(basePath, { contentType: contentTypeOf("index.html"), body: await readFile(htmlPath) });
  // Installed packages do not change while the server runs; our sources may.
  const inputs = [
    htmlPath,
    ...Object.keys(result.metafile.inputs)
      .filter((input) => !input.includes("node_modules"))
      .map((input) => path.resolve(sourceDir, input)),
  ];
  return { files, inputs };
}

/** Reads a page built ahead of time (every file of `dir`, `index.html` served at `basePath`). */
export async function readBuiltPage(dir: string, basePath: string): Promise<PageAssets> {
  const files: PageAssets["files"] = new Map();
  for (const name of await readdir(dir)) {
    const body = await readFile(path.join(dir, name));
    files.set(name === "index.html" ? basePath : `${basePath}/${name}`, {
      contentType: contentTypeOf(name),
      body,
    });
  }
  return { files, inputs: [] };
}

/** Whether any of `files` changed after `at` (a missing file counts as changed). */
export async function changedSince(files: string[], at: number): Promise<boolean> {
  const times = await Promise.all(
    files.map((file) =>
      stat(file).then(
        (s) => s.mtimeMs,
        () => Number.POSITIVE_INFINITY,
      ),
    ),
  );
  return times.some((mtime) => mtime > at);
}

/** esbuild's errors as `file:line: text` lines, or the error's message. */
export function describeBuildError(err: unknown): string {
  const errors = (err as { errors?: { text: string; location?: { file: string; line: number } }[] })
    .errors;
  if (Array.isArray(errors) && errors.length > 0) {
    return errors
      .map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text))
      .join("\n");
  }
  return err instanceof Error ? err.message : String(err);
}

/** Writes a whole response. */
export function sendPage(
  res: http.ServerResponse | http2.Http2ServerResponse,
  status: number,
  headers: Record<string, string>,
  body?: Uint8Array | string,
): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = status;
  if (body === undefined) {
    res.end();
  } else {
    res.end(body);
  }
}
