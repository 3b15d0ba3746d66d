import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../support/api-keys.js";
import { callJson } from "../support/connect-json.js";
import { consoleSignIn, sessionHeaders } from "../support/console-session.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";
import { startProdArgs, startProdFlags } from "../support/start-prod.js";

// Built inside node_modules so the compiled modules find their packages, as dist/ does.
const out = join("node_modules", ".cache", "otp-compiled-test");
let redis: RedisInstance;
let server: ServerProcess;

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ["scripts/build-service.mjs", out]);
  redis = await startRedis();
  const env = {
    ...productionEnv(),
    REDIS_URL: redis.url,
    WORKERS: "1",
    CONSOLE_TRUST_PROXY_TLS: "true",
  };
  // npm run start:prod's command line, V8 flags and preloads included, on this build.
  server = await spawnServer(
    env,
    startProdArgs().map((a) =>
      a.replace(/^(\.\/)?dist\//, (_, dot: string | undefined) => `${dot ?? ""}${out}/`),
    ),
  );
}, 60_000);
afterAll(async () => {
  server?.child.kill("SIGTERM");
  await server?.exited;
  await redis?.stop();
});

describe("the compiled service (npm run build:service, as the Dockerfile runs it)", () => {
  it("compiles to JavaScript beside the files src/ holds besides TypeScript", () => {
    expect(existsSync(join(out, "src/main.js"))).toBe(true);
    expect(existsSync(join(out, "gen/otp/v1/otp_pb.js"))).toBe(true);
    expect(existsSync(join(out, "src/telemetry/otel-start.mjs"))).toBe(true);
  });

  it("serves production calls with an API key, without a TypeScript loader", async () => {
    expect(server.child.spawnargs.join(" ")).not.toContain("tsx");
    expect(server.child.spawnargs).toEqual(expect.arrayContaining(startProdFlags()));
    const key = await createApiKey(server.url, testAdminToken);
    const auth = { authorization: `Bearer ${key}` };
    const made = await callJson(server.url, "otp.v1.OtpService/Generate", {}, auth);
    expect(made.status).toBe(200);
    const checked = await callJson(
      server.url,
      "otp.v1.OtpService/Verify",
      { id: made.body.id, code: made.body.code },
      auth,
    );
    expect(checked.body.result).toBe("VERIFY_RESULT_VERIFIED");
  });

  it("serves the console bundled at build time, and its sessions, without esbuild at run time", async () => {
    const built = join(out, "console");
    for (const file of ["index.html", "app.js", "styles.css"]) {
      expect(existsSync(join(built, file))).toBe(true);
    }
    const page = await fetch(`${server.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const script = await fetch(`${server.url}/console/app.js`);
    expect(
      Buffer.from(await script.arrayBuffer()).equals(readFileSync(join(built, "app.js"))),
    ).toBe(true);
    const session = await consoleSignIn(server.url, testAdminToken);
    expect(session.status).toBe(200);
    expect(session.setCookie).toContain("Secure");
    const tenants = await callJson(
      server.url,
      "otp.v1.AdminService/ListTenants",
      {},
      sessionHeaders(server.url, session),
    );
    expect(tenants.status).toBe(200);
  });
});
