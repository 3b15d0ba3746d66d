/**
 * The layer rules of DESIGN.md, checked by `npm run deps` (dependency-cruiser)
 * in CI. rpc/ -> domains -> core/, never back up; no cycles; drivers and
 * provider SDKs only inside their adapters; only the composition root
 * (src/app.ts, src/app/) and the process (src/main.ts) import everything.
 */
const domains = "^src/(otp|totp|tokens|delivery|tenancy|audit|activity|events|fraud)/";
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "A module must not depend on itself through others.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "gen-only-in-rpc",
      severity: "error",
      comment: "Generated protobuf code is the transport's business: domains work on plain types.",
      from: { path: "^src/", pathNot: ["^src/rpc/", "^src/app\\.ts$", "^src/app/"] },
      to: { path: "^gen/" },
    },
    {
      name: "core-imports-nothing-above",
      severity: "error",
      comment:
        "core/ (errors, ids, hashing, the tenant of the call) depends on nothing else in src/.",
      from: { path: "^src/core/" },
      to: { path: "^src/", pathNot: ["^src/core/"] },
    },
    {
      name: "config-imports-nothing",
      severity: "error",
      comment: "config/ reads the environment and imports nothing else from src/.",
      from: { path: "^src/config/" },
      to: { path: "^src/", pathNot: ["^src/config/"] },
    },
    {
      name: "domains-not-up",
      severity: "error",
      comment:
        "Domains never import the transport, the HTTP layer, the store (they declare the interfaces it implements) or the composition root.",
      from: { path: domains },
      to: {
        path: ["^src/rpc/", "^src/http/", "^src/store/", "^src/app", "^src/main\\.ts$"],
      },
    },
    {
      name: "transport-not-store",
      severity: "error",
      comment:
        "The transport and the HTTP layer reach state only through the domains' interfaces; the store implementations are chosen by the composition root.",
      from: { path: ["^src/rpc/", "^src/http/"] },
      to: { path: "^src/store/" },
    },
    {
      name: "store-not-up",
      severity: "error",
      comment:
        "Store implementations serve the domains; they never reach the transport or the composition root.",
      from: { path: "^src/store/" },
      to: { path: ["^src/rpc/", "^src/http/", "^src/app", "^src/main\\.ts$"] },
    },
    {
      name: "http-not-rpc-handlers",
      severity: "error",
      comment:
        "The HTTP layer (listener, CORS, probes, pages) does not reach into the RPC handlers or the composition root.",
      from: { path: "^src/http/" },
      to: { path: ["^src/app", "^src/main\\.ts$"] },
    },
    {
      name: "redis-driver-in-store",
      severity: "error",
      comment: "ioredis is imported only by the Redis store.",
      from: { path: "^src/", pathNot: "^src/store/redis/" },
      to: { path: "node_modules/ioredis/" },
    },
    {
      name: "grammy-in-telegram",
      severity: "error",
      comment: "The Telegram SDK is imported only by the Telegram channel.",
      from: { path: "^src/", pathNot: "^src/delivery/telegram/" },
      to: { path: "node_modules/grammy/" },
    },
    {
      name: "twilio-in-twilio",
      severity: "error",
      comment: "The Twilio SDK is imported only by the Twilio channels.",
      from: { path: "^src/", pathNot: "^src/delivery/twilio/" },
      to: { path: "node_modules/twilio/" },
    },
    {
      name: "resend-in-email",
      severity: "error",
      comment: "The Resend SDK is imported only by the email channel.",
      from: { path: "^src/", pathNot: "^src/delivery/email/" },
      to: { path: "node_modules/resend/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.test\\.ts$" },
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs"] },
  },
};
