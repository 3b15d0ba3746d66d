import {
  Channel,
  Code,
  type DeliveryTarget,
  isOtpError,
  type VerifyResponse,
  VerifyResult,
} from "../sdk/src/browser.js";

/** How a notice looks: red, amber, green or blue. */
export type NoticeKind = "error" | "warning" | "success" | "info";

/** What the page can offer next to a notice. */
export type NoticeAction = "new-code" | "restart";

/** A message for the person signing in, never a raw error. */
export interface Notice {
  kind: NoticeKind;
  /** The text; `{wait}` is replaced by a live countdown to `until`. */
  text: string;
  /** When the person may try again, for limits (epoch milliseconds). */
  until?: number;
  action?: NoticeAction;
}

/** A recipient the page understood, with the channel to reach it. */
export interface ParsedRecipient {
  target: Pick<DeliveryTarget, "channel" | "recipient">;
  /** "email" or "phone", for the page's wording. */
  kind: "email" | "phone";
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const e164Pattern = /^\+[1-9]\d{7,14}$/;

/**
 * Reads what was typed as an email address, or as a phone number in
 * international format (spaces, dots, dashes and brackets allowed; a leading
 * 00 counts as +).
 *
 * @example
 * parseRecipient("+1 (415) 555-0123"); // SMS to +14155550123
 */
export function parseRecipient(input: string): ParsedRecipient | undefined {
  const value = input.trim();
  if (value.includes("@")) {
    return emailPattern.test(value)
      ? { kind: "email", target: { channel: Channel.EMAIL, recipient: value.toLowerCase() } }
      : undefined;
  }
  let phone = value.replace(/[\s().-]/g, "");
  if (phone.startsWith("00")) phone = `+${phone.slice(2)}`;
  return e164Pattern.test(phone)
    ? { kind: "phone", target: { channel: Channel.SMS, recipient: phone } }
    : undefined;
}

/** The notice for a Verify response, or undefined when the code was right. */
export function verifyNotice(res: VerifyResponse): Notice | undefined {
  switch (res.result) {
    case VerifyResult.VERIFIED:
      return undefined;
    case VerifyResult.INVALID_CODE:
      return res.attemptsRemaining > 0
        ? {
            kind: "error",
            text: `That code isn't right. ${plural(res.attemptsRemaining, "attempt")} left.`,
          }
        : {
            kind: "error",
            text: "That code isn't right, and that was the last attempt. Request a new code to try again.",
            action: "new-code",
          };
    case VerifyResult.EXPIRED:
      return {
        kind: "warning",
        text: "This code has expired. Request a new code to continue.",
        action: "new-code",
      };
    case VerifyResult.ATTEMPTS_EXHAUSTED:
      return {
        kind: "error",
        text: "Too many wrong attempts for this code. Request a new code to continue.",
        action: "new-code",
      };
    case VerifyResult.ALREADY_VERIFIED:
      return {
        kind: "warning",
        text: "This code has already been used. Request a new code to sign in again.",
        action: "new-code",
      };
    case VerifyResult.CANCELED:
      return { kind: "warning", text: "This sign-in was canceled.", action: "restart" };
    case VerifyResult.BINDING_MISMATCH:
      return {
        kind: "error",
        text: "This code belongs to another sign-in. Request a new code here.",
        action: "new-code",
      };
    default:
      return { kind: "error", text: "Something went wrong. Please try again." };
  }
}

/**
 * The notice for a failed call, by the reason the service gave; never the
 * error's own message.
 */
export function errorNotice(err: unknown, now: number): Notice {
  const until = isOtpError(err) ? now + (err.retryDelayMs ?? 60_000) : now;
  if (isOtpError(err, "RATE_LIMITED")) {
    return {
      kind: "warning",
      text: "Too many requests from your network. Try again in {wait}.",
      until,
    };
  }
  if (isOtpError(err, "RESEND_COOLDOWN")) {
    return {
      kind: "info",
      text: "A code was just sent. You can request another in {wait}.",
      until,
    };
  }
  if (isOtpError(err, "SEND_LIMIT_REACHED")) {
    return {
      kind: "warning",
      text: "We've sent as many codes as we can for now. Try again in {wait}.",
      until,
    };
  }
  if (isOtpError(err, "RECIPIENT_INVALID")) {
    return { kind: "error", text: invalidRecipientText };
  }
  if (isOtpError(err, "CHANNEL_NOT_CONFIGURED")) {
    return { kind: "error", text: "We can't send codes that way yet. Try an email address." };
  }
  if (isOtpError(err, "DELIVERY_FAILED")) {
    return { kind: "error", text: "We couldn't deliver the code. Please try again in a moment." };
  }
  if (isOtpError(err, "CHALLENGE_NOT_FOUND") || isOtpError(err, "CHALLENGE_NOT_PENDING")) {
    return {
      kind: "warning",
      text: "This sign-in is no longer active. Request a new code to continue.",
      action: "new-code",
    };
  }
  if (isOtpError(err, "CODE_INVALID")) {
    return { kind: "error", text: "Enter the code exactly as you received it." };
  }
  if (
    isOtpError(err) &&
    (err.reason === undefined || err.code === Code.Unavailable) &&
    err.code !== Code.Internal
  ) {
    return {
      kind: "error",
      text: "We can't reach the sign-in service. Check your connection and try again.",
    };
  }
  return { kind: "error", text: "Something went wrong on our side. Please try again." };
}

/** The hint under a recipient the page could not read. */
export const invalidRecipientText =
  "Enter an email address, or a phone number with its country code, like +1 415 555 0123.";

/**
 * Minutes and seconds, for countdowns.
 *
 * @example
 * formatDuration(65_000); // "1:05"
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

/**
 * A wait for a sentence: "42 s" under a minute, whole minutes from there.
 *
 * @example
 * formatWait(42_000); // "42 s"
 * formatWait(60_000); // "1 min"
 */
export function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return seconds < 60 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
