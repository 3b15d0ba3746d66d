import { fileURLToPath } from "node:url";
import type { RequestHandler } from "./listener.js";
import {
  bundlePage,
  changedSince,
  describeBuildError,
  type PageAssets,
  pageSecurityHeaders,
  sendPage,
} from "./page-bundle.js";
import { isUnder, pathOf } from "./path-of.js";

/** Options for {@link withDemo}. */
export interface DemoOptions {
  /** The directory of the page's sources. Defaults to `demo/` at the repository root. */
  sourceDir?: string;
  /** Told when the page cannot be built, for the log. */
  onError?: (err: unknown) => void;
}

/** The built page: its HTML and the files it loads, by URL path. */
export type DemoAssets = PageAssets;

/** Where the page is served. */
export const demoPath = "/demo";

const defaultSourceDir = fileURLToPath(new URL("../../demo/", import.meta.url));

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
  return bundlePage(sourceDir, demoPath);
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
    const pathname = pathOf(req.url);
    if (!isUnder(pathname, demoPath)) {
      handler(req, res);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendPage(
        res,
        405,
        { allow: "GET, HEAD", "content-type": "text/plain" },
        "method not allowed\n",
      );
      return;
    }
    const key = pathname === `${demoPath}/` ? demoPath : pathname;
    current(key === demoPath).then(
      (assets) => {
        const file = assets.files.get(key);
        if (file === undefined) {
          sendPage(res, 404, { "content-type": "text/plain; charset=utf-8" }, "not found\n");
          return;
        }
        sendPage(
          res,
          200,
          { "content-type": file.contentType, ...pageSecurityHeaders },
          req.method === "HEAD" ? undefined : file.body,
        );
      },
      (err: unknown) => {
        options.onError?.(err);
        sendPage(
          res,
          500,
          { "content-type": "text/plain; charset=utf-8" },
          `The demo page could not be built (is esbuild installed? run npm install).\n\n${describeBuildError(err)}\n`,
        );
      },
    );
  };
}
