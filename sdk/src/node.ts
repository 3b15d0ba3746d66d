/**
 * The SDK for Node: gRPC over HTTP/2, gRPC-web and Connect, through
 * `@connectrpc/connect-node`. Bundlers targeting browsers get `browser.ts`
 * instead, through the package's `browser` export condition.
 *
 * @module
 */
import type { Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
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
 * The protocols a Node client speaks: `"grpc"` (HTTP/2, what internal
 * services should use), `"grpc-web"` and `"connect"`.
 *
 * @example
 * const protocol: NodeProtocol = "grpc";
 */
export type NodeProtocol = "grpc" | "grpc-web" | "connect";

/**
 * Options of the Node clients.
 *
 * @example
 * const options: NodeClientOptions = {
 *   baseUrl: "http://otp.internal:8080",
 *   protocol: "grpc",
 *   apiKey: process.env.OTP_API_KEY,
 * };
 */
export interface NodeClientOptions extends ClientOptions<NodeProtocol> {
  /**
   * HTTP version for `"grpc-web"` and `"connect"`; defaults to `"1.1"`,
   * which every proxy passes. `"grpc"` always uses HTTP/2 (cleartext
   * HTTP/2 with prior knowledge for `http:` URLs).
   */
  httpVersion?: "1.1" | "2";
  /** Connect only: protobuf binary instead of JSON. Defaults to false. */
  useBinaryFormat?: boolean;
}

const protocols: readonly NodeProtocol[] = ["grpc", "grpc-web", "connect"];

/**
 * Makes the transport the client factories use, so that an OTP client and a
 * delivery client can share one connection.
 *
 * @example
 * const transport = createTransport({ baseUrl: "http://localhost:8080", protocol: "grpc" });
 * const otp = createOtpClient(transport);
 * const delivery = createDeliveryClient(transport);
 */
export function createTransport(options: NodeClientOptions): Transport {
  checkOptions(options, protocols);
  const common = transportOptions(options);
  switch (options.protocol) {
    case "grpc":
      return createGrpcTransport(common);
    case "grpc-web":
      return createGrpcWebTransport({ ...common, httpVersion: options.httpVersion ?? "1.1" });
    case "connect":
      return createConnectTransport({
        ...common,
        httpVersion: options.httpVersion ?? "1.1",
        useBinaryFormat: options.useBinaryFormat ?? false,
      });
  }
}

/**
 * Creates a client of `OtpService`: typed errors, retries of calls that are
 * safe to repeat, a deadline on every call, W3C trace propagation and the
 * API key header. Given a transport from {@link createTransport}, it uses
 * that transport (and its connection) as is.
 *
 * @example
 * const otp = createOtpClient({ baseUrl: "http://localhost:8080", protocol: "grpc" });
 * const { id } = await otp.generate({
 *   deliveryTargets: [{ channel: Channel.EMAIL, recipient: "ada@example.com" }],
 * });
 * const { result } = await otp.verify({ id, code: "123456" });
 */
export function createOtpClient(options: NodeClientOptions | Transport): OtpClient {
  return createServiceClient(OtpService, toTransport(options));
}

/**
 * Creates a client of `DeliveryService`, with the same behaviour as
 * {@link createOtpClient}.
 *
 * @example
 * const delivery = createDeliveryClient({ baseUrl: "http://localhost:8080", protocol: "grpc" });
 * const { messages } = await delivery.listOutbox({ recipient: "ada@example.com" });
 */
export function createDeliveryClient(options: NodeClientOptions | Transport): DeliveryClient {
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
export function createAdminClient(options: NodeClientOptions | Transport): AdminClient {
  return createServiceClient(AdminService, toTransport(options));
}

function toTransport(options: NodeClientOptions | Transport): Transport {
  return isTransport(options) ? options : createTransport(options);
}
