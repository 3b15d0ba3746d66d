import { OtpError } from "../errors/otp-error.js";

/** One factory per error the delivery domain raises. */
export const deliveryErrors = {
  outboxDisabled: () =>
    new OtpError("OUTBOX_DISABLED", "the development outbox is disabled on this service"),
  pageSizeInvalid: (max: number) =>
    new OtpError("PAGE_SIZE_INVALID", `page_size must be 0 (the default) or between 1 and ${max}`, {
      field: "page_size",
    }),
};
