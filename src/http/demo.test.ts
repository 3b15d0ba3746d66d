import { execFile } from "node:child_process";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { productionEnv } from "../../test/support/secrets.js";
import { startTestServer } from "../../test/support/test-server.js";
import { buildDemo, withDemo } from "./demo.js";
import type { RequestHandler } from "./listener.js";

/** Serves `handler` on a free port for the duration of `run`. */
async function serve(handler: RequestHandler, run: (url: string) => Promise<void>): Promise<void> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const fallthrough: RequestHandler = (_req, res) => {
  res.statusCode = 418;
  res.end("service");
};

describe("buildDemo", () => {
  it("bundles the page for browsers without Node built-ins or the Node SDK", async () => {
    const { files, inputs } = await buildDemo();
    expect([...files.keys()].sort()).toEqual([
      "/demo",
      "/demo/app.js",
      "/demo/app.js.map",
      "/demo/styles.css",
      "/demo/styles.css.map",
    ]);
    const js = new TextDecoder().decode(files.get("/demo/app.js")?.body);
    expect(js).not.toMatch(/from\s*"node:|require\("node:/);
    expect(inputs.some((p) => p.endsWith(path.join("sdk", "src", "browser.ts")))).toBe(true);
    expect(inputs.some((p) => p.endsWith(path.join("sdk", "src", "node.ts")))).toBe(false);
  });
});

describe("the page's sources", () => {
  // The root tsconfig has no DOM types; tsconfig.browser.json checks what
  // runs in browsers (this page, the SDK's browser example, the test pages).
  it("type-check with the DOM types and without Node's", async () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    await promisify(execFile)(
      path.join(root, "node_modules/.bin/tsc"),
      ["-p", "tsconfig.browser.json"],
      { cwd: root },
    );
  });
});

describe("withDemo", () => {
  it("serves the page, its script and its styles, and passes everything else on", async () => {
    await serve(withDemo(fallthrough), async (url) => {
      for (const pathname of ["/demo", "/demo/", "/demo?ttl=5"]) {
        const page = await fetch(`${url}${pathname}`);
        expect(page.status).toBe(200);
        expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
        expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
        expect(await page.text()).toContain('<script type="module" src="/demo/app.js">');
      }
      const js = await fetch(`${url}/demo/app.js`);
      expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      const css = await fetch(`${url}/demo/styles.css`);
      expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
      expect((await fetch(`${url}/demo/nope.js`)).status).toBe(404);
      expect((await fetch(`${url}/demo`, { method: "POST" })).status).toBe(405);
      expect((await fetch(`${url}/otp.v1.OtpService/Generate`)).status).toBe(418);
      expect((await fetch(`${url}/demonstration`)).status).toBe(418);
    });
  });

  it("rebuilds the page after a source file changes, and reports a broken build", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "otp-demo-"));
    try {
      await writeFile(path.join(dir, "index.html"), "<!doctype html><title>t</title>");
      await writeFile(path.join(dir, "styles.css"), "body { color: red; }");
      await writeFile(path.join(dir, "main.ts"), 'document.title = "one";');
      const errors: unknown[] = [];
      await serve(
        withDemo(fallthrough, { sourceDir: dir, onError: (e) => errors.push(e) }),
        async (url) => {
          await fetch(`${url}/demo`);
          expect(await (await fetch(`${url}/demo/app.js`)).text()).toContain("one");

          await writeFile(path.join(dir, "main.ts"), 'document.title = "two";');
          const later = new Date(Date.now() + 5_000);
          await utimes(path.join(dir, "main.ts"), later, later);
          await fetch(`${url}/demo`);
          expect(await (await fetch(`${url}/demo/app.js`)).text()).toContain("two");

          await writeFile(path.join(dir, "main.ts"), "this is not TypeScript (");
          const evenLater = new Date(Date.now() + 10_000);
          await utimes(path.join(dir, "main.ts"), evenLater, evenLater);
          const broken = await fetch(`${url}/demo`);
          expect(broken.status).toBe(500);
          expect(await broken.text()).toContain("main.ts:1");
          expect(errors).toHaveLength(1);
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the service", () => {
  let url = "";
  let close = async () => {};
  beforeAll(async () => {
    const server = await startTestServer();
    url = server.url;
    close = () => server.close();
  });
  afterAll(() => close());

  it("serves /demo in development", async () => {
    const res = await fetch(`${url}/demo`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Sign in");
  });

  it("does not serve /demo in production", async () => {
    const server = await startTestServer({ ...productionEnv(), DEV_OUTBOX: "false" });
    try {
      expect((await fetch(`${server.url}/demo`)).status).not.toBe(200);
    } finally {
      await server.close();
    }
  });
});
