import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Bundles a browser entry point the way an application's bundler would:
 * `@otp/sdk` resolves through the workspace package with the `browser`
 * condition (plus `otp-sdk-source`, for its TypeScript sources). esbuild
 * fails on any Node built-in, so a page that bundles proves the browser
 * entry has none.
 */
export async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, new URL("../", import.meta.url)))],
    absWorkingDir: root,
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["otp-sdk-source", "module"],
    target: "es2022",
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

/** A static site on its own port of 127.0.0.1: a second origin for the CORS tests. */
export interface StaticSite {
  /** `http://127.0.0.1:<port>`: the origin to allow in CORS_ORIGINS. */
  origin: string;
  port: number;
  close(): Promise<void>;
}

/** Serves fixed files by path (the query string is ignored). */
export async function serveStatic(
  files: Record<string, { contentType: string; body: string }>,
): Promise<StaticSite> {
  const server = http.createServer((req, res) => {
    const file = files[(req.url ?? "/").split("?", 1)[0] ?? "/"];
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file.contentType, "cache-control": "no-store" });
    res.end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A minimal HTML page that loads one module script. */
export function htmlPage(title: string, body: string, script = "/page.js"): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:40px}input,button{font:inherit;margin:4px 0;display:block}</style>
<script type="module" src="${script}"></script></head><body>${body}</body></html>`;
}
