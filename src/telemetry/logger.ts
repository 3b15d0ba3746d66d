import { trace } from "@opentelemetry/api";
import { type Logger, pino } from "pino";

/**
 * Creates the structured JSON logger, one JSON object per line, with
 * `trace_id` and `span_id` when a span is active. Fields that could carry secrets are
 * redacted as a second line of defence; the first is never logging them.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "otp" },
      // Every line written inside a traced call names its trace and span.
      mixin() {
        const span = trace.getActiveSpan()?.spanContext();
        return span === undefined ? {} : { trace_id: span.traceId, span_id: span.spanId };
      },
      redact: {
        paths: [
          "code",
          "*.code",
          "secret",
          "*.secret",
          "token",
          "*.token",
          "recipient",
          "*.recipient",
        ],
        censor: "[redacted]",
      },
    },
    destination ?? process.stdout,
  );
}

export type { Logger };
