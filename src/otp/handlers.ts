import type { ServiceImpl } from "@connectrpc/connect";
import type { OtpService } from "../../gen/otp/v1/otp_pb.js";
import {
  alphabetFromProto,
  alphabetToProto,
  channelFromProto,
  deliveryAttemptToProto,
  optionalTimestamp,
  statusToProto,
  verifyResultToProto,
} from "../proto-mapping.js";
import type { ChallengeService, IssuedCode } from "./challenge-service.js";

/** The OtpService handlers: protobuf in, domain call, protobuf out. */
export function createOtpHandlers(service: ChallengeService): ServiceImpl<typeof OtpService> {
  const issuedToProto = (issued: IssuedCode) => ({
    id: issued.id,
    expiresAt: optionalTimestamp(issued.expiresAtMs),
    code: issued.code,
    deliveryId: issued.deliveryId,
    deliveryAttempts: issued.deliveryAttempts.map(deliveryAttemptToProto),
    resendAvailableAt: optionalTimestamp(issued.resendAvailableAtMs),
  });

  return {
    async generate(req) {
      const issued = await service.generate({
        ttlSeconds: req.ttlSeconds,
        maxAttempts: req.maxAttempts,
        codeLength: req.codeLength,
        alphabet: alphabetFromProto(req.alphabet),
        binding: req.binding,
        targets: req.deliveryTargets.map((t) => ({
          channel: channelFromProto(t.channel),
          recipient: t.recipient,
          selfDestructSeconds: t.selfDestructSeconds,
        })),
        idempotencyKey: req.idempotencyKey,
      });
      return issuedToProto(issued);
    },

    async verify(req) {
      const result = await service.verify({ id: req.id, code: req.code, binding: req.binding });
      return {
        result: verifyResultToProto(result.outcome),
        attemptsRemaining: result.attemptsRemaining,
        status: statusToProto(result.status),
        verifiedAt: optionalTimestamp(result.verifiedAtMs),
      };
    },

    async getChallenge(req) {
      const c = await service.get(req.id);
      return {
        challenge: {
          id: c.id,
          status: statusToProto(c.status),
          attemptsRemaining: c.attemptsRemaining,
          maxAttempts: c.maxAttempts,
          createdAt: optionalTimestamp(c.createdAtMs),
          expiresAt: optionalTimestamp(c.expiresAtMs),
          verifiedAt: optionalTimestamp(c.verifiedAtMs),
          alphabet: alphabetToProto(c.alphabet),
          codeLength: c.codeLength,
          hasBinding: c.hasBinding,
          sends: c.sends,
          sendsRemaining: c.sendsRemaining,
          resendAvailableAt: optionalTimestamp(c.resendAvailableAtMs),
          deliveryAttempts: c.deliveryAttempts.map(deliveryAttemptToProto),
        },
      };
    },

    async cancel(req) {
      return { status: statusToProto(await service.cancel(req.id)) };
    },

    async resend(req) {
      const issued = await service.resend(req.id);
      return { ...issuedToProto(issued), sendsRemaining: issued.sendsRemaining };
    },
  };
}
