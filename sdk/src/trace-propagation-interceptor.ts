import type { Interceptor } from "@connectrpc/connect";

/**
 * The two parts of `@opentelemetry/api` the trace interceptor uses; the
 * package's namespace (`import * as otel from "@opentelemetry/api"`) is one.
 *
 * @example
 * import * as otel from "@opentelemetry/api";
 * const api: TraceContextApi = otel;
 */
export interface TraceContextApi {
  context: { active(): unknown };
  propagation: {
    inject(
      context: never,
      carrier: Headers,
      setter: { set(carrier: Headers, key: string, value: string): void },
    ): void;
  };
}

/**
 * Options for {@link createTracePropagationInterceptor}.
 *
 * @example
 * import * as otel from "@opentelemetry/api";
 * const otp = createOtpClient({ baseUrl, protocol: "grpc-web", tracePropagation: { api: otel } });
 */
export interface TracePropagationOptions {
  /**
   * The OpenTelemetry API to use. Leave it out to load `@opentelemetry/api`
   * when the application has it installed (an optional peer dependency);
   * pass it where a bundler cannot find it by itself, as in most browser
   * builds.
   */
  api?: TraceContextApi;
}

// A variable, not a literal, so that bundlers do not try to resolve a
// package the application may not have.
const otelApiModule = "@opentelemetry/api";
const headerSetter = {
  set(carrier: Headers, key: string, value: string) {
    carrier.set(key, value);
  },
};

// undefined: not tried yet; null: not available.
let loadedApi: TraceContextApi | null | undefined;
let loadingApi: Promise<TraceContextApi | null> | undefined;

function loadApi(): Promise<TraceContextApi | null> {
  loadingApi ??= import(/* @vite-ignore */ /* webpackIgnore: true */ otelApiModule).then(
    (module: Partial<TraceContextApi> & { default?: Partial<TraceContextApi> }) => {
      const api = module.propagation !== undefined ? module : module.default;
      loadedApi =
        api?.propagation !== undefined && api.context !== undefined
          ? (api as TraceContextApi)
          : null;
      return loadedApi;
    },
    () => {
      loadedApi = null;
      return null;
    },
  );
  return loadingApi;
}

/**
 * Propagates the active OpenTelemetry trace to the service as W3C
 * `traceparent` and `tracestate` headers (whatever propagator the
 * application registered), so the client's span and the service's spans
 * share one trace. Without `@opentelemetry/api`, or with no SDK registered,
 * it does nothing. SDK clients include it unless `tracePropagation: false`.
 *
 * @example
 * import { createClient } from "@connectrpc/connect";
 * import { createGrpcTransport } from "@connectrpc/connect-node";
 * const transport = createGrpcTransport({
 *   baseUrl: "http://localhost:8080",
 *   interceptors: [createTracePropagationInterceptor()],
 * });
 * const otp = createClient(OtpService, transport);
 */
export function createTracePropagationInterceptor(
  options: TracePropagationOptions = {},
): Interceptor {
  return (next) => async (req) => {
    // Read the active context before any await where possible: not every
    // context manager carries it across one.
    const api = options.api ?? (loadedApi === undefined ? await loadApi() : loadedApi);
    if (api !== null) {
      api.propagation.inject(api.context.active() as never, req.header, headerSetter);
    }
    return next(req);
  };
}
