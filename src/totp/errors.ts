import { OtpError } from "../core/otp-error.js";

/** One factory per error the TOTP domain raises. */
export const totpErrors = {
  accountNameInvalid: () =>
    new OtpError(
      "ACCOUNT_NAME_INVALID",
      "account_name must be 1 to 128 characters without ':' or control characters",
      { field: "account_name" },
    ),
  issuerInvalid: () =>
    new OtpError(
      "ISSUER_INVALID",
      "issuer must be at most 64 characters without ':' or control characters",
      { field: "issuer" },
    ),
  factorIdInvalid: () =>
    new OtpError("ID_INVALID", "factor_id must be a UUID", { field: "factor_id" }),
  codeInvalid: () =>
    new OtpError("CODE_INVALID", "code must be between 1 and 64 characters", { field: "code" }),
  notFound: () => new OtpError("TOTP_FACTOR_NOT_FOUND", "no authenticator factor has this id"),
  alreadyConfirmed: () =>
    new OtpError("TOTP_ALREADY_CONFIRMED", "the factor is already confirmed; use VerifyTotp"),
};
