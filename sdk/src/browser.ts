/**
 * The SDK for browsers: gRPC-web and Connect over `fetch`, through
 * `@connectrpc/connect-web`, with no Node built-ins. Node gets `node.ts`
 * instead, through the package's `node` export condition.
 *
 * @module
 */
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { AdminService } from "../../gen/otp/v1/admin_pb.js";
import { DeliveryService } from "../../gen/otp/v1/delivery_pb.js";
import { OtpService } from "../../gen/otp/v1/otp_pb.js";
import {
  type AdminClient,
  type ClientOptions,
  checkOptions,
  createServiceClient,
  type DeliveryClient,
  isTransport,
  type OtpClient,
  transportOptions,
} from "./client.js";

export * from "./common.js";

/**
 * The protocols a browser client speaks. gRPC itself needs HTTP trailers,
 * which `fetch` cannot read, so browsers use `"grpc-web"` or `"connect"`.
 *
 * @example
 * const protocol: BrowserProtocol = "grpc-web";
 */
export type BrowserProtocol = "grpc-web" | "connect";

/**
 * Options of the browser clients. The service must list the page's origin
 * in `CORS_ORIGINS` unless it serves the page itself.
 *
 * @example
 * const options: BrowserClientOptions = { baseUrl: location.origin, protocol: "grpc-web" };
 */
export interface BrowserClientOptions extends ClientOptions<BrowserProtocol> {
  /** Connect only: protobuf binary instead of JSON. Defaults to false. */
  useBinaryFormat?: boolean;
  /** A `fetch` to use instead of the global one, for example to set `credentials`. */
  fetch?: typeof globalThis.fetch;
}

const protocols: readonly BrowserProtocol[] = ["grpc-web", "connect"];

/**
 * Makes the transport the client factories use, so that an OTP client and a
 * delivery client can share it.
 *
 * @example
 * const transport = createTransport({ baseUrl: "https://otp.example.com", protocol: "grpc-web" });
 * const otp = createOtpClient(transport);
 */
export function createTransport(options: BrowserClientOptions): Transport {
  if ((options.protocol as string) === "grpc") {
    throw new TypeError(
      'protocol "grpc" needs HTTP trailers, which browsers cannot read; use "grpc-web" or "connect"',
    );
  }
  checkOptions(options, protocols);
  const common = {
    ...transportOptions(options),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };
  return options.protocol === "grpc-web"
    ? createGrpcWebTransport(common)
    : createConnectTransport({ ...common, useBinaryFormat: options.useBinaryFormat ?? false });
}

/**
 * Creates a client of `OtpService` for the browser: typed errors, retries of
 * calls that are safe to repeat, a deadline on every call, W3C trace
 * propagation and the API key header. Given a transport from
 * {@link createTransport}, it uses that transport as is.
 *
 * @example
 * const otp = createOtpClient({ baseUrl: "https://otp.example.com", protocol: "grpc-web" });
 * const { result, attemptsRemaining } = await otp.verify({ id, code: input.value });
 */
export function createOtpClient(options: BrowserClientOptions | Transport): OtpClient {
  return createServiceClient(OtpService, toTransport(options));
}

/**
 * Creates a client of `DeliveryService` for the browser, with the same
 * behaviour as {@link createOtpClient}.
 *
 * @example
 * const delivery = createDeliveryClient({ baseUrl: location.origin, protocol: "grpc-web" });
 * const { channels } = await delivery.listChannels({});
 */
export function createDeliveryClient(options: BrowserClientOptions | Transport): DeliveryClient {
  return createServiceClient(DeliveryService, toTransport(options));
}

/**
 * Creates a client of `AdminService`, with the same behaviour as
 * {@link createOtpClient}; pass `ADMIN_TOKEN` or a tenant's admin-read key as `apiKey`.
 *
 * @example
 * const admin = createAdminClient({ baseUrl, protocol: "grpc", apiKey: adminToken });
 * const overview = await admin.getOverview({ window: ActivityWindow.DAY });
 */
export function createAdminClient(options: BrowserClientOptions | Transport): AdminClient {
  return createServiceClient(AdminService, toTransport(options));
}

function toTransport(options: BrowserClientOptions | Transport): Transport {
  return isTransport(options) ? options : createTransport(options);
}
