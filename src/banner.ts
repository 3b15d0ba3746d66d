import type { RunningServer } from "./app.js";

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
    `  channels   ${describeChannels(server.channels)}`,
    ...server.deliveryNotes.map((note) => `  ${note}`),
    ...(config.mode === "development"
      ? [`  demo       ${server.url}/demo (sign-in page, development only)`]
      : []),
    `  console    ${describeConsole(server.url, config)}`,
    `  cors       ${config.corsOrigins.length === 0 ? "same-origin only (set CORS_ORIGINS)" : config.corsOrigins.join(", ")}`,
    `  api keys   ${
      config.requireApiKey
        ? "required on every call but health and reflection"
        : "optional: callers without a key are anonymous members of the default tenant"
    }${config.adminToken === undefined ? "; AdminService off (set ADMIN_TOKEN)" : "; AdminService on"}`,
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

// Where the console is, or why it is off.
function describeConsole(url: string, config: RunningServer["config"]): string {
  if (!config.console.enabled) {
    return "OFF: production needs TLS in front; behind a TLS-terminating proxy set CONSOLE_TRUST_PROXY_TLS=true (docs/console.md)";
  }
  const who =
    config.adminToken === undefined
      ? "sign in with a tenant's admin key (set ADMIN_TOKEN for the operator)"
      : "sign in with ADMIN_TOKEN or a tenant's admin key";
  const networks =
    config.console.allowedCidrs.length === 0
      ? ""
      : `, from ${config.console.allowedCidrs.join(", ")}`;
  return `${url}/console (${who}${networks})`;
}

// Providers by name, then the channels the development outbox stands in for.
function describeChannels(channels: RunningServer["channels"]): string {
  if (channels.length === 0) return "none configured";
  const standIns = channels.filter(
    (c) => c.kind !== "outbox" && c.description.startsWith("development outbox"),
  );
  const own = channels.filter((c) => !standIns.includes(c));
  const parts = own.map((c) => `${c.kind} (${c.description})`);
  if (standIns.length > 0) {
    parts.push(`${standIns.map((c) => c.kind).join(", ")} through the outbox (no provider)`);
  }
  return parts.join(", ");
}
