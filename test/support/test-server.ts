import { type RunningServer, type ServerOverrides, startServer } from "../../src/app.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { sharedKeys } from "./secrets.js";

/**
 * Starts the real service in this process on a free port of 127.0.0.1, with
 * logs silenced. `env` is read exactly like the process environment. Rate
 * limits are off unless `env` sets them, so tests that make many calls from
 * one address test what they mean to; test/interop/rate-limits.test.ts turns
 * them on.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  overrides: ServerOverrides = {},
): Promise<RunningServer> {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    SHUTDOWN_GRACE_SECONDS: "1",
    RATE_LIMIT_GENERATE_PER_IP: "off",
    RATE_LIMIT_VERIFY_PER_IP: "off",
    RATE_LIMIT_VERIFY_PER_CHALLENGE: "off",
    RATE_LIMIT_SENDS_PER_RECIPIENT: "off",
    RATE_LIMIT_PUBLISHABLE_PER_IP: "off",
    TENANT_QUOTA_GENERATE: "off",
    TENANT_QUOTA_SENDS_PER_CHANNEL: "off",
    ...sharedKeys,
    ...env,
  });
  return startServer(config, { logger: createLogger("silent"), ...overrides });
}

/**
 * The service as a client's tests see it: where it listens and how to stop it.
 * The SDK's tests get only this, so they depend on the service through this
 * helper and not on its source files or types.
 */
export interface ServiceEndpoint {
  /** The base URL, for example `http://127.0.0.1:43117`. */
  readonly url: string;
  /** Stops taking calls and releases the port. */
  close(): Promise<void>;
}

/**
 * Starts the service like {@link startTestServer} and hands back only its
 * URL and `close`.
 *
 * @example
 * const service = await startServiceForClients({ RATE_LIMIT_GENERATE_PER_IP: "1/1m" });
 * createOtpClient({ baseUrl: service.url, protocol: "grpc" });
 * await service.close();
 */
export async function startServiceForClients(
  env: Record<string, string> = {},
): Promise<ServiceEndpoint> {
  const server = await startTestServer(env);
  return { url: server.url, close: () => server.close() };
}
