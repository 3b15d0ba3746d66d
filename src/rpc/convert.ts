import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Channel, DeliveryAttemptStatus } from "../../gen/otp/v1/channel_pb.js";
import { Alphabet, ChallengeStatus, VerifyResult } from "../../gen/otp/v1/otp_pb.js";
import type { ChannelKind } from "../core/channel-kind.js";
import type { AlphabetName } from "../otp/alphabets.js";
import type { ChallengeStatusName } from "../otp/challenge-service.js";
import type { DeliveryAttemptRecord, VerifyOutcome } from "../otp/challenge-store.js";

/**
 * Translations between protobuf enums and the domain's plain names. Only
 * handlers use this file; the domain never sees generated types.
 */

const channels: Record<ChannelKind, Channel> = {
  telegram: Channel.TELEGRAM,
  sms: Channel.SMS,
  whatsapp: Channel.WHATSAPP,
  email: Channel.EMAIL,
  outbox: Channel.OUTBOX,
  telegram_gateway: Channel.TELEGRAM_GATEWAY,
  voice: Channel.VOICE,
};

/** The domain name of a proto channel, or "invalid" for UNSPECIFIED and unknown values. */
export function channelFromProto(channel: Channel): ChannelKind | "invalid" {
  for (const [kind, value] of Object.entries(channels)) {
    if (value === channel) return kind as ChannelKind;
  }
  return "invalid";
}

/** The proto value of a domain channel. */
export function channelToProto(kind: ChannelKind): Channel {
  return channels[kind];
}

/** The domain name of a proto alphabet; UNSPECIFIED means numeric. */
export function alphabetFromProto(alphabet: Alphabet): AlphabetName | "invalid" {
  switch (alphabet) {
    case Alphabet.UNSPECIFIED:
    case Alphabet.NUMERIC:
      return "numeric";
    case Alphabet.ALPHANUMERIC:
      return "alphanumeric";
    case Alphabet.WORDS:
      return "words";
    default:
      return "invalid";
  }
}

/** The proto value of a domain alphabet. */
export function alphabetToProto(alphabet: AlphabetName): Alphabet {
  return { numeric: Alphabet.NUMERIC, alphanumeric: Alphabet.ALPHANUMERIC, words: Alphabet.WORDS }[
    alphabet
  ];
}

/** The proto value of a challenge status. */
export function statusToProto(status: ChallengeStatusName): ChallengeStatus {
  return {
    pending: ChallengeStatus.PENDING,
    verified: ChallengeStatus.VERIFIED,
    expired: ChallengeStatus.EXPIRED,
    canceled: ChallengeStatus.CANCELED,
    attempts_exhausted: ChallengeStatus.ATTEMPTS_EXHAUSTED,
  }[status];
}

/** The proto value of a verification outcome. */
export function verifyResultToProto(outcome: VerifyOutcome): VerifyResult {
  return {
    verified: VerifyResult.VERIFIED,
    invalid_code: VerifyResult.INVALID_CODE,
    expired: VerifyResult.EXPIRED,
    attempts_exhausted: VerifyResult.ATTEMPTS_EXHAUSTED,
    binding_mismatch: VerifyResult.BINDING_MISMATCH,
    already_verified: VerifyResult.ALREADY_VERIFIED,
    canceled: VerifyResult.CANCELED,
  }[outcome];
}

/** The proto form of a delivery attempt. */
export function deliveryAttemptToProto(attempt: DeliveryAttemptRecord) {
  return {
    channel: channelToProto(attempt.channel),
    recipientMasked: attempt.recipientMasked,
    status: {
      accepted: DeliveryAttemptStatus.ACCEPTED,
      failed: DeliveryAttemptStatus.FAILED,
      skipped: DeliveryAttemptStatus.SKIPPED,
    }[attempt.status],
    deliveryId: attempt.deliveryId,
    errorReason: attempt.errorReason,
    viaOutbox: attempt.viaOutbox,
  };
}

/** A timestamp, or undefined for the domain's "not set" value of 0. */
export function optionalTimestamp(ms: number): Timestamp | undefined {
  return ms > 0 ? timestampFromMs(ms) : undefined;
}
