import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import type { AdminService } from "../../gen/otp/v1/admin_pb.js";
import type { DeliveryService } from "../../gen/otp/v1/delivery_pb.js";
import type { OtpService } from "../../gen/otp/v1/otp_pb.js";
import { createApiKeyInterceptor } from "./api-key-interceptor.js";
import { toOtpError } from "./otp-error.js";
import { createRetryInterceptor, type RetryOptions } from "./retry-interceptor.js";
import {
  createTracePropagationInterceptor,
  type TracePropagationOptions,
} from "./trace-propagation-interceptor.js";

/**
 * What every client factory takes; the Node and browser entry points narrow
 * `protocol` to what their platform can speak and add a few options of their own.
 *
 * @example
 * const options: ClientOptions<"grpc-web"> = {
 *   baseUrl: "https://otp.example.com",
 *   protocol: "grpc-web",
 *   timeoutMs: 5_000,
 * };
 */
export interface ClientOptions<Protocol extends string = string> {
  /** Where the service listens, for example `https://otp.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** The wire protocol. All three reach the same handlers on the same port. */
  protocol: Protocol;
  /** Sent as `Authorization: Bearer <apiKey>` with every call. */
  apiKey?: string;
  /**
   * The deadline of each call in milliseconds, retries included, unless the
   * call passes its own `timeoutMs`. Defaults to 10,000; 0 means none.
   */
  timeoutMs?: number;
  /**
   * Your interceptors. They run inside the SDK's retry loop (so once per
   * attempt) and outside its API-key and trace interceptors.
   */
  interceptors?: Interceptor[];
  /** Retries of calls that are safe to repeat; `false` turns them off. See {@link createRetryInterceptor}. */
  retry?: RetryOptions | false;
  /** W3C trace propagation; on by default, `false` turns it off. See {@link createTracePropagationInterceptor}. */
  tracePropagation?: TracePropagationOptions | boolean;
}

/**
 * A client of `otp.v1.OtpService`: `generate`, `verify`, `getChallenge`,
 * `cancel`, `resend`. Every method rejects with an {@link OtpError}.
 *
 * @example
 * const { id } = await otp.generate({ deliveryTargets: [{ channel: Channel.EMAIL, recipient }] });
 */
export type OtpClient = Client<typeof OtpService>;

/**
 * A client of `otp.v1.DeliveryService`: `listChannels`, `listOutbox`.
 * Every method rejects with an {@link OtpError}.
 *
 * @example
 * const { channels } = await delivery.listChannels({});
 */
export type DeliveryClient = Client<typeof DeliveryService>;

/**
 * A client of `otp.v1.AdminService`: tenants, keys and usage with
 * `ADMIN_TOKEN`, and the console's data (`getOverview`, `getTimeSeries`,
 * the `watchActivity` stream, `getSystemHealth`), which a tenant's key with
 * `SCOPE_ADMIN_READ` reads for its own tenant. Every method rejects with an
 * {@link OtpError}.
 *
 * @example
 * for await (const { event } of admin.watchActivity({ kinds: [ActivityKind.VERIFY] })) {
 *   if (event) console.log(event.tenantId, event.outcome, event.recipientMasked);
 * }
 */
export type AdminClient = Client<typeof AdminService>;

/**
 * The deadline of a call, in milliseconds, when neither the client nor the
 * call sets one.
 *
 * @example
 * const otp = createOtpClient({ baseUrl, protocol: "grpc", timeoutMs: 3 * defaultTimeoutMs });
 */
export const defaultTimeoutMs = 10_000;

/** Checks the options both entry points share (internal to the SDK). */
export function checkOptions(options: ClientOptions, protocols: readonly string[]): void {
  if (typeof options.baseUrl !== "string" || options.baseUrl === "") {
    throw new TypeError("baseUrl is required, for example http://localhost:8080");
  }
  if (!protocols.includes(options.protocol)) {
    throw new TypeError(
      `protocol must be ${protocols.map((p) => `"${p}"`).join(" or ")}, got "${options.protocol}"`,
    );
  }
  if (
    options.timeoutMs !== undefined &&
    !(Number.isFinite(options.timeoutMs) && options.timeoutMs >= 0)
  ) {
    throw new TypeError("timeoutMs must be a number of milliseconds, 0 or more");
  }
}

/** The transport options both entry points derive from client options (internal to the SDK). */
export function transportOptions(options: ClientOptions): {
  baseUrl: string;
  interceptors: Interceptor[];
  defaultTimeoutMs: number | undefined;
} {
  // Outermost first: retries wrap everything, so the caller's interceptors
  // see each attempt; the API key and the trace headers are set last, on
  // the request that goes out.
  const interceptors: Interceptor[] = [];
  if (options.retry !== false) interceptors.push(createRetryInterceptor(options.retry));
  interceptors.push(...(options.interceptors ?? []));
  if (options.apiKey !== undefined) interceptors.push(createApiKeyInterceptor(options.apiKey));
  if (options.tracePropagation !== false) {
    interceptors.push(
      createTracePropagationInterceptor(
        typeof options.tracePropagation === "object" ? options.tracePropagation : {},
      ),
    );
  }
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  return {
    baseUrl: options.baseUrl,
    interceptors,
    defaultTimeoutMs: timeoutMs === 0 ? undefined : timeoutMs,
  };
}

/**
 * A Connect client whose calls reject with {@link OtpError} (internal to the
 * SDK). The conversion happens here rather than in an interceptor because
 * Connect replaces an interceptor's error with its own when the deadline
 * or the caller's signal ended the call.
 */
export function createServiceClient<S extends DescService>(
  service: S,
  transport: Transport,
): Client<S> {
  const client = createClient(service, transport) as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  const wrapped: Record<string, unknown> = {};
  for (const method of service.methods) {
    const call = client[method.localName];
    if (call === undefined) continue;
    wrapped[method.localName] =
      method.methodKind === "unary" || method.methodKind === "client_streaming"
        ? (...args: unknown[]) =>
            (call(...args) as Promise<unknown>).catch((err: unknown) => {
              throw toOtpError(err);
            })
        : (...args: unknown[]) => rethrowAsOtpErrors(call(...args) as AsyncIterable<unknown>);
  }
  return wrapped as Client<S>;
}

async function* rethrowAsOtpErrors<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw toOtpError(err);
  }
}

/** Tells a transport from client options (internal to the SDK). */
export function isTransport(value: object): value is Transport {
  return (
    typeof (value as Partial<Transport>).unary === "function" &&
    typeof (value as Partial<Transport>).stream === "function"
  );
}
