import { readFile, stat } from "node:fs/promises";
import type * as http from "node:http";
import type * as http2 from "node:http2";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { RequestHandler } from "./listener.js";

/** Options for {@link withDemo}. */
export interface DemoOptions {
  /** The directory of the page's sources. Defaults to `demo/` at the repository root. */
  sourceDir?: string;
  /** Told when the page cannot be built, for the log. */
  onError?: (err: unknown) => void;
}

/** The built page: its HTML and the files it loads, by URL path. */
export interface DemoAssets {
  files: Map<string, { contentType: string; body: Uint8Array }>;
  /** Every source file the build read, for rebuilding after an edit. */
  inputs: string[];
}

/** Where the page is served. */
export const demoPath = "/demo";

const defaultSourceDir = fileURLToPath(new URL("../../demo/", import.meta.url));

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

// The page talks only to its own origin and loads nothing from elsewhere.
const securityHeaders = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/**
 * Builds the sign-in page from `demo/` with esbuild: `main.ts` (which uses
 * the browser SDK over gRPC-web) bundled for browsers, `styles.css`, and
 * `index.html` as is. esbuild is a development dependency, loaded only here,
 * so a production install never needs it.
 *
 * @example
 * const { files } = await buildDemo();
 * files.get("/demo/app.js");
 */
export async function buildDemo(sourceDir = defaultSourceDir): Promise<DemoAssets> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: {
      app: path.join(sourceDir, "main.ts"),
      styles: path.join(sourceDir, "styles.css"),
    },
    outdir: "/demo-out",
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
  const files: DemoAssets["files"] = new Map();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    files.set(`${demoPath}/${name}`, {
      contentType: contentTypes[path.extname(name)] ?? "application/octet-stream",
      body: file.contents,
    });
  }
  const htmlPath = path.join(sourceDir, "index.html");
  files.set(demoPath, { contentType: contentTypes[".html"] ?? "", body: await readFile(htmlPath) });
  // Installed packages do not change while the server runs; our sources may.
  const inputs = [
    htmlPath,
    ...Object.keys(result.metafile.inputs)
      .filter((input) => !input.includes("node_modules"))
      .map((input) => path.resolve(sourceDir, input)),
  ];
  return { files, inputs };
}

/**
 * Serves the sign-in page at `/demo` (and `/demo/`, with its assets below
 * it), passing every other request to `handler`. The page is built on the
 * first request and rebuilt when a source file changes, so `npm start` on a
 * fresh clone shows it without a build step. The server wires this in
 * development mode only.
 *
 * @example
 * const handler = config.mode === "development" ? withDemo(service) : service;
 */
export function withDemo(handler: RequestHandler, options: DemoOptions = {}): RequestHandler {
  const sourceDir = options.sourceDir ?? defaultSourceDir;
  let built: Promise<{ assets: DemoAssets; at: number }> | undefined;

  const current = async (checkSources: boolean): Promise<DemoAssets> => {
    if (built !== undefined && checkSources) {
      const { assets, at } = await built;
      if (await changedSince(assets.inputs, at)) built = undefined;
    }
    if (built === undefined) {
      const at = Date.now();
      built = buildDemo(sourceDir).then((assets) => ({ assets, at }));
      // A failed build is not cached: the next request tries again.
      built.catch(() => {
        built = undefined;
      });
    }
    return (await built).assets;
  };

  return (req, res) => {
    const url = req.url ?? "/";
    const pathname = url.split("?", 1)[0] ?? "/";
    if (pathname !== demoPath && !pathname.startsWith(`${demoPath}/`)) {
      handler(req, res);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, { allow: "GET, HEAD", "content-type": "text/plain" }, "method not allowed\n");
      return;
    }
    const key = pathname === `${demoPath}/` ? demoPath : pathname;
    current(key === demoPath).then(
      (assets) => {
        const file = assets.files.get(key);
        if (file === undefined) {
          send(res, 404, { "content-type": "text/plain; charset=utf-8" }, "not found\n");
          return;
        }
        send(
          res,
          200,
          { "content-type": file.contentType, ...securityHeaders },
          req.method === "HEAD" ? undefined : file.body,
        );
      },
      (err: unknown) => {
        options.onError?.(err);
        send(
          res,
          500,
          { "content-type": "text/plain; charset=utf-8" },
          `The demo page could not be built (is esbuild installed? run npm install).\n\n${describeBuildError(err)}\n`,
        );
      },
    );
  };
}

async function changedSince(files: string[], at: number): Promise<boolean> {
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

function describeBuildError(err: unknown): string {
  const errors = (err as { errors?: { text: string; location?: { file: string; line: number } }[] })
    .errors;
  if (Array.isArray(errors) && errors.length > 0) {
    return errors
      .map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text))
      .join("\n");
  }
  return err instanceof Error ? err.message : String(err);
}

function send(
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
