import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Channel } from "../../gen/otp/v1/channel_pb.js";
import { Alphabet, type GenerateRequest, type OtpService } from "../../gen/otp/v1/otp_pb.js";
import { TotpResult } from "../../gen/otp/v1/totp_pb.js";
import { canonicalJson } from "../otp/binding-hash.js";
import type { CallLimits, ChallengeService, IssuedCode } from "../otp/challenge-service.js";
import type { GenerateInput } from "../otp/validate.js";
import type { TokenSigner } from "../tokens/token-signer.js";
import type { TotpCheck, TotpOutcome, TotpService } from "../totp/totp-service.js";
import { callerKey, defaultTenantId, tenantScopeKey } from "./caller.js";
import {
  alphabetFromProto,
  alphabetToProto,
  channelFromProto,
  deliveryAttemptToProto,
  optionalTimestamp,
  statusToProto,
  verifyResultToProto,
} from "./convert.js";
import { callChargesKey } from "./interceptors/rate-limit-interceptor.js";

const totpResults: Record<TotpOutcome, TotpResult> = {
  verified: TotpResult.VERIFIED,
  invalid_code: TotpResult.INVALID_CODE,
  replayed: TotpResult.REPLAYED,
  locked_out: TotpResult.LOCKED_OUT,
  not_confirmed: TotpResult.NOT_CONFIRMED,
};

// The limits the rate-limit interceptor left for the store step to charge,
// the caller's tenant settings (from the cached credential: no store read)
// and the call's tenant scope.
const withCharges = (ctx: HandlerContext, limits: CallLimits): CallLimits => {
  const charges = ctx.values.get(callChargesKey);
  const settings = ctx.values.get(callerKey)?.settings;
  const scope = ctx.values.get(tenantScopeKey);
  if (charges !== undefined) limits.charges = charges;
  if (settings !== undefined) limits.settings = settings;
  if (scope !== undefined) limits.scope = scope;
  return limits;
};

// The tenant a token is issued for: the caller's (development callers without a key are "default").
const tenantOf = (ctx: HandlerContext) => ctx.values.get(callerKey)?.tenantId ?? defaultTenantId;

/** The OtpService handlers: protobuf in, domain call, protobuf out. */
export function createOtpHandlers(
  service: ChallengeService,
  totp: TotpService,
  signer: TokenSigner,
  now: () => number = Date.now,
): ServiceImpl<typeof OtpService> {
  return { ...challengeHandlers(service, signer), ...totpHandlers(totp, signer, now) };
}

type OtpHandlers = ServiceImpl<typeof OtpService>;

// Generate, Verify, GetChallenge, Cancel, Resend.
function challengeHandlers(
  service: ChallengeService,
  signer: TokenSigner,
): Pick<OtpHandlers, "generate" | "verify" | "getChallenge" | "cancel" | "resend"> {
  return {
    async generate(req, ctx) {
      const issued = await service.generate(
        generateInput(req),
        withCharges(ctx, { timeoutMs: ctx.timeoutMs() }),
      );
      return issuedToProto(issued);
    },

    async verify(req, ctx) {
      const result = await service.verify(
        req.recipient === "" && req.channel === Channel.UNSPECIFIED
          ? { id: req.id, code: req.code, binding: req.binding }
          : {
              id: req.id,
              recipient: req.recipient,
              channel:
                req.channel === Channel.UNSPECIFIED ? undefined : channelFromProto(req.channel),
              code: req.code,
              binding: req.binding,
            },
        withCharges(ctx, {}),
      );
      const token =
        req.issueToken && result.outcome === "verified"
          ? await signer.sign({
              subject: result.id,
              kind: "challenge",
              tenantId: tenantOf(ctx),
              // Verified, so the binding presented is the challenge's (none and {} alike hash to "").
              canonicalBinding:
                result.bindingHash === "" || req.binding === undefined
                  ? ""
                  : canonicalJson(req.binding),
              verifiedAtMs: result.verifiedAtMs,
            })
          : "";
      return {
        result: verifyResultToProto(result.outcome),
        attemptsRemaining: result.attemptsRemaining,
        status: statusToProto(result.status),
        verifiedAt: optionalTimestamp(result.verifiedAtMs),
        token,
        id: result.id,
      };
    },

    async getChallenge(req, ctx) {
      const view = await service.get(req.id, ctx.values.get(tenantScopeKey));
      return { challenge: challengeToProto(view) };
    },

    async cancel(req, ctx) {
      return {
        status: statusToProto(await service.cancel(req.id, ctx.values.get(tenantScopeKey))),
      };
    },

    async resend(req, ctx) {
      const issued = await service.resend(req.id, withCharges(ctx, { timeoutMs: ctx.timeoutMs() }));
      return { ...issuedToProto(issued), sendsRemaining: issued.sendsRemaining };
    },
  };
}

// A GenerateRequest in the domain's terms; the domain validates it.
function generateInput(req: GenerateRequest): GenerateInput {
  return {
    ttlSeconds: req.ttlSeconds,
    maxAttempts: req.maxAttempts,
    codeLength: req.codeLength,
    // Unset: the tenant's default alphabet, else numeric.
    alphabet: req.alphabet === Alphabet.UNSPECIFIED ? undefined : alphabetFromProto(req.alphabet),
    binding: req.binding,
    targets: req.deliveryTargets.map((t) => ({
      channel: channelFromProto(t.channel),
      recipient: t.recipient,
      selfDestructSeconds: t.selfDestructSeconds,
      fallbackAfterSeconds: t.fallbackAfterSeconds,
    })),
    idempotencyKey: req.idempotencyKey,
    locale: req.locale,
  };
}

// EnrollTotp, ConfirmTotp, VerifyTotp, DeleteTotp.
function totpHandlers(
  totp: TotpService,
  signer: TokenSigner,
  now: () => number,
): Pick<OtpHandlers, "enrollTotp" | "confirmTotp" | "verifyTotp" | "deleteTotp"> {
  return {
    async enrollTotp(req, ctx) {
      const e = await totp.enroll(
        { accountName: req.accountName, issuer: req.issuer },
        ctx.values.get(tenantScopeKey),
      );
      return {
        factorId: e.factorId,
        otpauthUri: e.otpauthUri,
        qrCodeSvg: e.qrCodeSvg,
        qrCodePngDataUrl: e.qrCodePngDataUrl,
        secret: e.secret,
        confirmBefore: optionalTimestamp(e.confirmBeforeMs),
      };
    },

    async confirmTotp(req, ctx) {
      const check = await totp.confirm(
        { factorId: req.factorId, code: req.code },
        ctx.values.get(tenantScopeKey),
      );
      return { ...totpResponse(check), recoveryCodes: check.recoveryCodes };
    },

    async verifyTotp(req, ctx) {
      const check = await totp.verify(
        { factorId: req.factorId, code: req.code },
        ctx.values.get(tenantScopeKey),
      );
      const token =
        req.issueToken && check.outcome === "verified"
          ? await signer.sign({
              subject: req.factorId.toLowerCase(),
              kind: "totp",
              tenantId: tenantOf(ctx),
              canonicalBinding: "",
              verifiedAtMs: now(),
            })
          : "";
      return {
        ...totpResponse(check),
        usedRecoveryCode: check.usedRecoveryCode,
        recoveryCodesRemaining: check.recoveryCodesRemaining,
        token,
      };
    },

    async deleteTotp(req, ctx) {
      await totp.remove(req.factorId, ctx.values.get(tenantScopeKey));
      return {};
    },
  };
}

function totpResponse(check: TotpCheck) {
  return {
    result: totpResults[check.outcome],
    attemptsRemaining: check.attemptsRemaining,
    lockedUntil: optionalTimestamp(check.lockedUntilMs),
  };
}

function issuedToProto(issued: IssuedCode) {
  return {
    id: issued.id,
    expiresAt: optionalTimestamp(issued.expiresAtMs),
    code: issued.code,
    deliveryId: issued.deliveryId,
    deliveryAttempts: issued.deliveryAttempts.map(deliveryAttemptToProto),
    resendAvailableAt: optionalTimestamp(issued.resendAvailableAtMs),
  };
}

function challengeToProto(c: Awaited<ReturnType<ChallengeService["get"]>>) {
  return {
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
  };
}
