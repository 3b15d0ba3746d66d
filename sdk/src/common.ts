// What both entry points export besides their client factories.

/**
 * Connect's types for interceptors and per-call options, re-exported for
 * `interceptors` and for a call's second argument.
 *
 * @example
 * const log: Interceptor = (next) => async (req) => { console.log(req.method.name); return next(req); };
 * await otp.getChallenge({ id }, { timeoutMs: 2_000 } satisfies CallOptions);
 */
export type { CallOptions, Interceptor, Transport } from "@connectrpc/connect";
/**
 * Connect's status codes, re-exported so `err.code === Code.ResourceExhausted`
 * needs no second import.
 *
 * @example
 * if (isOtpError(err) && err.code === Code.DeadlineExceeded) showSlowNetworkHint();
 */
export { Code } from "@connectrpc/connect";
/**
 * The error details the service sends, for `err.findDetails(ErrorInfoSchema)`;
 * {@link OtpError} reads them for you.
 *
 * @example
 * const [info] = err.findDetails(ErrorInfoSchema);
 */
export {
  type ErrorInfo,
  ErrorInfoSchema,
  type RetryInfo,
  RetryInfoSchema,
} from "../../gen/google/rpc/error_details_pb.js";
/**
 * The contract's messages, enums and service descriptors (`VerifyResult`,
 * `ChallengeStatus`, `Channel`, `Alphabet`, `GenerateRequest`, the TOTP
 * messages, ...), generated from `proto/otp/v1/*.proto`; each carries its proto comment.
 *
 * @example
 * if (res.result === VerifyResult.VERIFIED) signIn();
 */
export * from "../../gen/otp/v1/activity_pb.js";
export * from "../../gen/otp/v1/admin_pb.js";
export * from "../../gen/otp/v1/channel_pb.js";
export * from "../../gen/otp/v1/delivery_pb.js";
export * from "../../gen/otp/v1/otp_pb.js";
export * from "../../gen/otp/v1/totp_pb.js";
export { createApiKeyInterceptor } from "./api-key-interceptor.js";
export {
  type AdminClient,
  type ClientOptions,
  type DeliveryClient,
  defaultTimeoutMs,
  type OtpClient,
} from "./client.js";
export { isOtpError, OtpError, toOtpError } from "./otp-error.js";
export { type OtpErrorReason, otpErrorDomain, otpErrorReasons } from "./reasons.js";
export {
  backoffDelayMs,
  createRetryInterceptor,
  isSafeToRetry,
  type RetryOptions,
} from "./retry-interceptor.js";
export {
  createTracePropagationInterceptor,
  type TraceContextApi,
  type TracePropagationOptions,
} from "./trace-propagation-interceptor.js";
