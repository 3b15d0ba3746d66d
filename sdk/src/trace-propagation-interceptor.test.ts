import { createClient, createRouterTransport } from "@connectrpc/connect";
import { context, propagation, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OtpService } from "../../gen/otp/v1/otp_pb.js";
import { installInMemoryTracing } from "../../test/support/traced-client.js";
import { createTracePropagationInterceptor } from "./trace-propagation-interceptor.js";

describe("createTracePropagationInterceptor", () => {
  beforeAll(() => {
    installInMemoryTracing();
  });
  afterAll(() => {
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it("sends the active span as traceparent, loading @opentelemetry/api by itself", async () => {
    const received: (string | null)[] = [];
    const transport = createRouterTransport(
      (router) =>
        router.service(OtpService, {
          getChallenge(_req, ctx) {
            received.push(ctx.requestHeader.get("traceparent"));
            return {};
          },
        }),
      { transport: { interceptors: [createTracePropagationInterceptor()] } },
    );
    const client = createClient(OtpService, transport);
    const tracer = trace.getTracer("sdk-test");
    const spans: { traceId: string; spanId: string }[] = [];
    for (let i = 0; i < 2; i += 1) {
      // The first call waits for the dynamic import; the context must survive it.
      await tracer.startActiveSpan("caller", async (span) => {
        spans.push(span.spanContext());
        await client.getChallenge({ id: "x" });
        span.end();
      });
    }
    expect(received).toEqual(spans.map((s) => `00-${s.traceId}-${s.spanId}-01`));
  });

  it("sends nothing outside a span", async () => {
    let header: string | null = "unset";
    const transport = createRouterTransport(
      (router) =>
        router.service(OtpService, {
          getChallenge(_req, ctx) {
            header = ctx.requestHeader.get("traceparent");
            return {};
          },
        }),
      { transport: { interceptors: [createTracePropagationInterceptor()] } },
    );
    await createClient(OtpService, transport).getChallenge({ id: "x" });
    expect(header).toBeNull();
  });
});
