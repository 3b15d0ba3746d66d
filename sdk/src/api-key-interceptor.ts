import type { Interceptor } from "@connectrpc/connect";

/**
 * Sends `Authorization: Bearer <apiKey>` with every call, unless the call
 * already has an `Authorization` header. SDK clients add it when given an
 * `apiKey`.
 *
 * @example
 * const transport = createGrpcWebTransport({
 *   baseUrl: "https://otp.example.com",
 *   interceptors: [createApiKeyInterceptor(process.env.OTP_API_KEY ?? "")],
 * });
 */
export function createApiKeyInterceptor(apiKey: string): Interceptor {
  if (apiKey === "" || /[\r\n]/.test(apiKey)) {
    throw new TypeError("apiKey must be a non-empty string on one line");
  }
  const value = `Bearer ${apiKey}`;
  return (next) => (req) => {
    if (!req.header.has("authorization")) {
      req.header.set("authorization", value);
    }
    return next(req);
  };
}
