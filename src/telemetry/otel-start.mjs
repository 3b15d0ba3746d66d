// Loaded second with `node --import`, before the app: starts the OpenTelemetry
// SDK when the standard OTEL_* variables ask for an exporter, and does nothing
// (quietly) otherwise, so development stays free of export errors.
//
// Configured only by the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), OTEL_EXPORTER_OTLP_PROTOCOL,
// OTEL_TRACES_EXPORTER, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED, ...
import { otelWanted } from "./otel-wanted.mjs";

const env = process.env;
const wanted = otelWanted(env);

// Provider URLs can hold credentials (Telegram puts the bot token in the path).
const redactUrl = (url) => url.replace(/\/bot[^/]+\//, "/bot[redacted]/");
const urlAttributes = ["url.full", "http.url", "http.target", "url.path"];
// Rewrites the URL attributes a span already has. Called when the request
// starts, because a request that fails (a dropped connection) never reaches
// the response hooks, and its span would keep the token.
const redactSpan = (span) => {
  for (const key of urlAttributes) {
    const value = span.attributes?.[key];
    if (typeof value === "string") span.setAttribute(key, redactUrl(value));
  }
};

if (wanted) {
  // Loaded only here: a process that exports no traces never holds the SDK.
  const [
    { HttpInstrumentation },
    { IORedisInstrumentation },
    { UndiciInstrumentation },
    { NodeSDK },
  ] = await Promise.all([
    import("@opentelemetry/instrumentation-http"),
    import("@opentelemetry/instrumentation-ioredis"),
    import("@opentelemetry/instrumentation-undici"),
    import("@opentelemetry/sdk-node"),
  ]);
  env.OTEL_SERVICE_NAME ??= "otp";
  // Metrics are served at /metrics; only traces leave through OTLP unless asked.
  env.OTEL_METRICS_EXPORTER ??= "none";
  env.OTEL_LOGS_EXPORTER ??= "none";
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        // Incoming calls get their span from the RPC interceptor: one server span per RPC.
        // (Ignoring them with a hook instead would suppress every span inside the call.)
        disableIncomingRequestInstrumentation: true,
        requestHook: (span, request) => {
          redactSpan(span);
          if (typeof request.path === "string")
            span.setAttribute("url.path", redactUrl(request.path));
        },
        applyCustomAttributesOnSpan: redactSpan,
      }),
      new UndiciInstrumentation({
        requestHook: (span, request) => {
          redactSpan(span);
          span.setAttribute("url.path", redactUrl(String(request.path)));
        },
      }),
      // Command names only: arguments carry HMACs, recipients and rate-limit keys.
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();
  // The server calls this before it exits, so the last spans are not lost.
  globalThis[Symbol.for("otp.telemetry.shutdown")] = () => sdk.shutdown();
}
