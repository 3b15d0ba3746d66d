import type { ChannelKind } from "../core/channel-kind.js";
import { canonicalJson } from "../otp/binding-hash.js";
import type { TargetRecord } from "../otp/challenge-store.js";
import type { CodeHasher } from "../otp/code-hasher.js";
import type { CodeContent, MessageStyle } from "./channel.js";
import type { MessageContent } from "./dispatcher.js";
import { deliveryErrors } from "./errors.js";
import { validateLocale } from "./targets.js";

/** Send's input in plain types; "invalid" marks an enum value the service does not know. */
export interface SendInput {
  channel: ChannelKind | "invalid";
  recipient: string;
  content:
    | { kind: "text"; text: string }
    | { kind: "otp"; code: string; ttlSeconds: number }
    | { kind: "none" };
  selfDestructSeconds: number;
  idempotencyKey: string;
  locale: string;
}

/** The longest free text a Send carries, in characters. */
const maxTextLength = 4096;

/**
 * What a Send says: free text of up to 4,096 characters, or a code the
 * caller made, rendered from the channel's template in the tenant's style.
 * Anything else is `CONTENT_INVALID`.
 */
export function validateContent(input: SendInput, style?: MessageStyle): MessageContent {
  const { content } = input;
  if (
    content.kind === "text" &&
    content.text.trim() !== "" &&
    [...content.text].length <= maxTextLength
  ) {
    return { kind: "text", text: content.text };
  }
  if (
    content.kind === "otp" &&
    /^[\x21-\x7e]{4,64}$/.test(content.code) &&
    Number.isInteger(content.ttlSeconds) &&
    content.ttlSeconds >= 1 &&
    content.ttlSeconds <= 86_400
  ) {
    const locale = validateLocale(input.locale);
    return {
      kind: "code",
      code: {
        code: content.code,
        ttlSeconds: content.ttlSeconds,
        ...(locale === "" ? {} : { locale }),
        ...(style === undefined ? {} : { style }),
      },
    };
  }
  throw deliveryErrors.contentInvalid(maxTextLength);
}

// The code content as fingerprinted before tenants had styles: the same requests keep the same fingerprint.
function withoutStyle(code: CodeContent): { code: string; ttlSeconds: number; locale?: string } {
  const { style: _style, ...rest } = code;
  return rest;
}

/**
 * The fingerprint of a Send with an idempotency key, as a replay must match
 * it; keyed, so a stolen store cannot reverse it into the code it covers.
 */
export function fingerprintOf(
  hasher: CodeHasher,
  target: TargetRecord,
  content: MessageContent,
): string {
  return hasher.digest(
    "send-request",
    canonicalJson({
      target: { ...target },
      content: content.kind === "text" ? { ...content } : withoutStyle(content.code),
    }),
  );
}
