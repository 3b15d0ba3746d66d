import { type Logger, pino } from "pino";

/**
 * Creates the structured JSON logger. Fields that could carry secrets are
 * redacted as a second line of defence; the first is never logging them.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "otp" },
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
