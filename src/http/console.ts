import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { ClientIpResolver } from "./client-ip.js";
import type { ConsoleGate } from "./console-gate.js";
import { answerSession, sessionPath } from "./console-session-routes.js";
import type { RequestHandler } from "./listener.js";
import {
  bundlePage,
  changedSince,
  describeBuildError,
  type PageAssets,
  pageSecurityHeaders,
  readBuiltPage,
  sendPage,
} from "./page-bundle.js";
import { isUnder, pathOf } from "./path-of.js";

/** Where the console is served. */
export const consolePath = "/console";

/**
 * The console's files: `console/` beside `src/` holds its sources in a
 * checkout, and the bundle `npm run build:service` wrote in `dist/`.
 */
const defaultDir = fileURLToPath(new URL("../../console/", import.meta.url));

/** Options for {@link withConsole}. */
export interface ConsoleOptions {
  gate: ConsoleGate;
  /** The caller's address, as `TRUSTED_PROXIES` tells it. */
  clientIp: ClientIpResolver;
  /** The console's directory: sources (bundled on first request) or a prebuilt bundle. */
  dir?: string;
  /** Told when the page cannot be built or a session cannot be read, for the log. */
  onError?: (err: unknown) => void;
}

/**
 * Builds the console from its sources with esbuild (development), into
 * `basePath` paths: see {@link bundlePage}.
 *
 * @example
 * const { files } = await buildConsole();
 */
export function buildConsole(dir = defaultDir): Promise<PageAssets> {
  return bundlePage(dir, consolePath);
}

/** Whether `dir` holds a prebuilt console (`app.js` beside `index.html`) rather than its sources. */
export function isBuiltConsole(dir: string): boolean {
  return existsSync(path.join(dir, "app.js")) && !existsSync(path.join(dir, "main.ts"));
}

const text = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };

/**
 * Serves the operator console at `/console`, its files below it and its
 * sign-in at `/console/session`, passing every other request to `handler`.
 * In production the files come prebuilt from `dist/console/` (esbuild is not
 * installed there); from a checkout they are bundled on first request and
 * rebuilt when a source changes. Every path answers 403 to an address outside
 * CONSOLE_ALLOWED_CIDRS, and 503 when the console is off (production without
 * CONSOLE_TRUST_PROXY_TLS).
 *
 * @example
 * const handler = withConsole(service, { gate, clientIp });
 */
export function withConsole(handler: RequestHandler, options: ConsoleOptions): RequestHandler {
  const { gate } = options;
  const dir = options.dir ?? defaultDir;
  const onError = options.onError ?? (() => {});
  const assets = createAssetSource(dir);
  return (req, res) => {
    const pathname = pathOf(req.url);
    if (!isUnder(pathname, consolePath)) {
      handler(req, res);
      return;
    }
    if (!gate.enabled) {
      sendPage(
        res,
        503,
        text,
        "The console is off: in production it needs TLS in front. Put it behind a proxy that terminates TLS and set CONSOLE_TRUST_PROXY_TLS=true (see docs/console.md).\n",
      );
      return;
    }
    const ip = options.clientIp(req);
    if (!gate.allows(ip)) {
      gate.auth.refused("network", ip);
      sendPage(res, 403, text, "forbidden\n");
      return;
    }
    if (pathname === sessionPath) {
      answerSession(gate, req, res, ip, onError);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendPage(res, 405, { ...text, allow: "GET, HEAD" }, "method not allowed\n");
      return;
    }
    const key = pathname === `${consolePath}/` ? consolePath : pathname;
    assets(key === consolePath).then(
      (built) => {
        const file = built.files.get(key);
        if (file === undefined) {
          sendPage(res, 404, text, "not found\n");
          return;
        }
        const headers = { "content-type": file.contentType, ...pageSecurityHeaders };
        sendPage(res, 200, headers, req.method === "HEAD" ? undefined : file.body);
      },
      (err: unknown) => {
        onError(err);
        sendPage(
          res,
          500,
          text,
          `The console could not be built (run npm run build:service for production, or npm install).\n\n${describeBuildError(err)}\n`,
        );
      },
    );
  };
}

// The console's files, read once when prebuilt, else bundled and rebuilt after an edit.
function createAssetSource(dir: string): (checkSources: boolean) => Promise<PageAssets> {
  let built: Promise<{ assets: PageAssets; at: number }> | undefined;
  return async (checkSources) => {
    if (built !== undefined && checkSources) {
      const { assets, at } = await built;
      if (assets.inputs.length > 0 && (await changedSince(assets.inputs, at))) built = undefined;
    }
    if (built === undefined) {
      const at = Date.now();
      const make = isBuiltConsole(dir) ? readBuiltPage(dir, consolePath) : buildConsole(dir);
      built = make.then((assets) => ({ assets, at }));
      // A failed build is not cached: the next request tries again.
      built.catch(() => {
        built = undefined;
      });
    }
    return (await built).assets;
  };
}
