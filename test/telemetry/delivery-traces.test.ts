import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SpanKind } from "@opentelemetry/api";
import type { InMemorySpanExporter, ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Channel } from "../../gen/otp/v1/channel_pb.js";
import { DeliveryService } from "../../gen/otp/v1/delivery_pb.js";
import type { RunningServer } from "../../src/app.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { startTestServer } from "../support/test-server.js";
import { createClientSpanInterceptor, installInMemoryTracing } from "../support/traced-client.js";

let exporter: InMemorySpanExporter;
let fakes: ProviderFakes;
let server: RunningServer;
let offsetMs = 0;

beforeAll(async () => {
  exporter = installInMemoryTracing();
  fakes = await startProviderFakes();
  server = await startTestServer(providerEnv(fakes), { now: () => Date.now() + offsetMs });
});
afterAll(async () => {
  await server?.close();
  await fakes?.close();
});
beforeEach(() => {
  exporter.reset();
  fakes.reset();
});

const client = () =>
  createClient(
    DeliveryService,
    createConnectTransport({
      baseUrl: server.url,
      httpVersion: "1.1",
      interceptors: [createClientSpanInterceptor()],
    }),
  );

const named = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

async function finished(name: string): Promise<ReadableSpan> {
  for (let i = 0; i < 250; i++) {
    const [span] = named(name);
    if (span !== undefined) return span;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${name} span`);
}

describe("delivery traces", () => {
  it("puts each provider send, its retries and its outcome under the RPC's span", async () => {
    fakes.twilio.fail({ kind: "server_error" }, 1);
    await client().send({
      channel: Channel.SMS,
      recipient: "+14155552671",
      content: { case: "otp", value: { code: "493027", ttlSeconds: 60 } },
    });
    const [rpc] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    const send = await finished("delivery.send");
    expect(send.spanContext().traceId).toBe(rpc?.spanContext().traceId);
    expect(send.parentSpanContext?.spanId).toBe(rpc?.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      "otp.channel": "sms",
      "otp.outcome": "accepted",
      "otp.attempts": 2,
    });
    expect(send.events.map((e) => [e.name, e.attributes?.reason])).toEqual([
      ["retry", "PROVIDER_UNAVAILABLE"],
    ]);
    // Nothing about the recipient or the code.
    expect(JSON.stringify(send.attributes)).not.toMatch(/4155552671|493027/);
  });

  it("links a self-destruct deletion, a trace of its own, to the trace of the send", async () => {
    await client().send({
      channel: Channel.TELEGRAM,
      recipient: "9901",
      content: { case: "text", value: "vanishing" },
      selfDestructSeconds: 5,
    });
    const [rpc] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    offsetMs += 5_000;
    const deletion = await finished("telegram self-destruct");
    expect(deletion.parentSpanContext).toBeUndefined();
    expect(deletion.spanContext().traceId).not.toBe(rpc?.spanContext().traceId);
    expect(deletion.links.map((l) => l.context.traceId)).toEqual([rpc?.spanContext().traceId]);
    expect(deletion.attributes).toMatchObject({ "otp.outcome": "deleted" });
  });
});
