import type { RunningServer } from "./server.js";

/**
 * The start-up banner: where the service listens, what it speaks, which store
 * and channels it uses, and, plainly, whether this is a development set-up.
 */
export function formatBanner(
  server: Pick<
    RunningServer,
    "url" | "config" | "store" | "channels" | "signingKeyGenerated" | "deliveryNotes"
  >,
): string {
  const { config } = server;
  const lines = [
    "",
    `  OTP service listening on ${server.url}`,
    "",
    "  protocols  gRPC (HTTP/2 h2c), gRPC-web and Connect (JSON and binary, HTTP/1.1 and HTTP/2)",
    "             grpc.health.v1.Health, gRPC reflection v1/v1alpha, /healthz /readyz /metrics",
    `  store      ${server.store.description}`,
    `  channels   ${server.channels.length === 0 ? "none configured" : server.channels.map((c) => `${c.kind} (${c.description})`).join(", ")}`,
    ...server.deliveryNotes.map((note) => `  ${note}`),
    `  cors       ${config.corsOrigins.length === 0 ? "same-origin only (set CORS_ORIGINS)" : config.corsOrigins.join(", ")}`,
  ];
  if (config.mode === "development") {
    lines.push(
      "",
      "  THIS IS A DEVELOPMENT CONFIGURATION: codes for channels without a provider go to the dev outbox (DeliveryService/ListOutbox),",
      config.redis === undefined
        ? `  state lives in this process only${config.hmacSecretGenerated ? ", and OTP_HMAC_SECRET is a random per-process value." : "."}`
        : "  state lives in Redis.",
      server.signingKeyGenerated || config.totp.encryptionKeyGenerated
        ? "  Token signing and TOTP encryption keys were generated for this process only."
        : "  Token signing and TOTP encryption keys come from the environment.",
      "  Set NODE_ENV=production, OTP_HMAC_SECRET, TOTP_ENCRYPTION_KEY, TOKEN_SIGNING_KEYS and real providers before serving users.",
    );
  } else {
    lines.push("", "  mode       production");
  }
  return `${lines.join("\n")}\n\n`;
}
