import { OtpError } from "../core/otp-error.js";

/** The errors the fraud guard raises; messages name a destination prefix, never a number. */
export const fraudErrors = {
  /** A send to a blocked prefix; `retryAfterMs` is what is left of the cool-down. */
  suspected: (prefix: string, channel: string, retryAfterMs: number) =>
    new OtpError(
      "FRAUD_SUSPECTED",
      `${channel} sends to numbers starting ${prefix} are paused: many codes sent there were never verified (suspected SMS pumping); retry later or use another channel`,
      { retryAfterMs, metadata: { prefix, channel } },
    ),
};
