import type { Interceptor } from "@connectrpc/connect";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";

/**
 * Registers a tracer provider for this test process that keeps spans in
 * memory, with the W3C propagator and async context. Returns the exporter.
 */
export function installInMemoryTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return exporter;
}

/**
 * A client interceptor that opens a CLIENT span per call and sends its
 * context as `traceparent`, the way an instrumented caller does.
 */
export function createClientSpanInterceptor(): Interceptor {
  const tracer = trace.getTracer("test-client");
  return (next) => async (req) =>
    tracer.startActiveSpan(
      `client ${req.method.parent.typeName}/${req.method.name}`,
      { kind: SpanKind.CLIENT },
      async (span) => {
        propagation.inject(context.active(), req.header, {
          set: (headers, key, value) => headers.set(key, value),
        });
        try {
          return await next(req);
        } finally {
          span.end();
        }
      },
    );
}
