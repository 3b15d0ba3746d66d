import type { Attributes, Counter } from "@opentelemetry/api";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { RuntimeNodeInstrumentation } from "@opentelemetry/instrumentation-runtime-node";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { latencyBucketBounds } from "../core/latency-buckets.js";
import { createCallTallies } from "./call-tallies.js";

/**
 * What the service counts. Labels are small closed sets (results, channels,
 * outcomes, method names); they never carry codes, recipients or ids.
 */
export interface Metrics {
  /** A challenge was created; `alphabet` is e.g. `numeric`. */
  challengeGenerated(alphabet: string): void;
  /** A verification finished with `result`, e.g. `verified` or `invalid_code`. */
  verification(result: string): void;
  /**
   * A delivery attempt over `channel` ended with `outcome`, `accepted` or
   * `failed`; `tenantId` is for the console's counters, never a label.
   */
  delivery(channel: string, outcome: string, tenantId?: string): void;
  /** A request of `tenantId` was refused by the rate limit named `limit` (the tenant: as above). */
  rateLimited(limit: string, tenantId?: string): void;
  /** A tenant's report-only geo permission let a number through that it would have refused. */
  geoReported(channel: string, country: string): void;
  /** A call passed the per-IP limit named `limit` unchecked, because its counter's node was unreachable. */
  rateLimitFailedOpen(limit: string): void;
  /** A store `operation` failed. */
  storeError(operation: string): void;
  /**
   * The fraud guard decided: `decision` is "block" or "would_block" (a prefix
   * judged pumped) or "refuse" or "would_refuse" (one send to a blocked
   * prefix), in `mode` "enforce" or "report"; `country` is the ISO code,
   * never the prefix.
   */
  fraudDecision(mode: string, decision: string, country: string): void;
  /** An RPC finished with a Connect `code` after `seconds`. */
  rpcCompleted(method: string, code: string, seconds: number): void;
  /** The current values in the Prometheus text format, for `GET /metrics`. */
  render(): Promise<{ contentType: string; body: string }>;
  /** Stops the runtime collectors (the GC observer, the event-loop delay monitor); safe to call twice. */
  stop(): void;
}

/** What {@link createMetrics} collects beyond the service's own counters. */
export interface MetricsOptions {
  /**
   * The Node.js runtime's metrics: garbage collections by kind and pause
   * (`v8js_gc_duration`), event-loop delay and utilization, heap spaces. The
   * collectors run per GC and on a timer, never per call, until `stop()`.
   * The service turns them on and stops them when it closes.
   */
  runtime?: boolean;
}

const contentType = "text/plain; version=0.0.4; charset=utf-8";

// Latency buckets in seconds, shared with the console's activity counters.
const durationBuckets = [...latencyBucketBounds];

/**
 * Creates {@link Metrics} on the OpenTelemetry metrics SDK with a pull-only
 * Prometheus exporter: nothing listens on a second port, `render` collects
 * on demand. Counters are named without `_total`; the Prometheus serializer
 * appends it, so `otp_verifications` is scraped as `otp_verifications_total`.
 *
 * @example
 * const metrics = createMetrics({ runtime: true });
 * metrics.verification("verified");
 * const { contentType, body } = await metrics.render();
 * metrics.stop();
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const runtime = options.runtime === true ? startRuntimeMetrics(provider) : undefined;
  const meter = provider.getMeter("otp-service");
  const serializer = new PrometheusSerializer();

  // What every Generate and Verify records: tallied in process memory, read
  // into the collection when /metrics is (call-tallies.ts). The rest are rare.
  const tallies = createCallTallies("otp-service");
  const generated = tallies.counter(
    "otp_challenges_generated",
    "One-time code challenges created.",
    (alphabet) => ({ alphabet: label(alphabet) }),
  );
  const verifications = tallies.counter(
    "otp_verifications",
    "Verification attempts by result.",
    (result) => ({ result: label(result) }),
  );
  const rpcDuration = tallies.histogram(
    "otp_rpc_duration_seconds",
    "RPC latency by method and Connect code.",
    "s",
    durationBuckets,
    (method, code) => ({ method: label(method), code: label(code) }),
  );
  const deliveries = meter.createCounter("otp_deliveries", {
    description: "Delivery attempts by channel and outcome.",
  });
  const rateLimited = meter.createCounter("otp_rate_limited", {
    description: "Requests refused by a rate limit.",
  });
  const failedOpen = meter.createCounter("otp_rate_limit_failed_open", {
    description: "Calls let through a per-IP limit whose counter's Redis node was unreachable.",
  });
  const geoReported = meter.createCounter("otp_geo_report_only", {
    description:
      "Numbers a tenant's report-only geo permission let through that it would have refused, by channel and country.",
  });
  const storeErrors = meter.createCounter("otp_store_errors", {
    description: "Failed store operations.",
  });
  const fraud = meter.createCounter("otp_fraud_decisions", {
    description:
      "Fraud guard decisions: prefixes blocked and sends refused (or, in report mode, that would have been), by country.",
  });

  const count = (counter: Counter, attributes: Attributes) => counter.add(1, attributes);

  return {
    challengeGenerated: (alphabet) => generated.add(1, alphabet),
    verification: (result) => verifications.add(1, result),
    delivery: (channel, outcome) =>
      count(deliveries, { channel: label(channel), outcome: label(outcome) }),
    rateLimited: (limit) => count(rateLimited, { limit: label(limit) }),
    rateLimitFailedOpen: (limit) => count(failedOpen, { limit: label(limit) }),
    geoReported: (channel, country) =>
      count(geoReported, { channel: label(channel), country: label(country) }),
    storeError: (operation) => count(storeErrors, { operation: label(operation) }),
    fraudDecision: (mode, decision, country) =>
      count(fraud, { mode: label(mode), decision: label(decision), country: label(country) }),
    rpcCompleted: (method, code, seconds) => rpcDuration.add(seconds, method, code),
    async render() {
      const { resourceMetrics, errors } = await exporter.collect();
      if (errors.length > 0) {
        throw new AggregateError(errors, "metrics collection failed");
      }
      resourceMetrics.scopeMetrics.push(tallies.collect());
      return { contentType, body: serializer.serialize(resourceMetrics) };
    },
    stop: () => runtime?.disable(),
  };
}

/**
 * The runtime collectors of `@opentelemetry/instrumentation-runtime-node`,
 * reporting to `provider` rather than the global one. Built disabled so that
 * nothing is observed before the provider is set.
 */
function startRuntimeMetrics(provider: MeterProvider): RuntimeNodeInstrumentation {
  const runtime = new RuntimeNodeInstrumentation({ enabled: false });
  runtime.setMeterProvider(provider);
  runtime.enable();
  return runtime;
}

/** {@link Metrics} that record nothing, for tests and tools. */
export function createNoopMetrics(): Metrics {
  const nothing = () => {};
  return {
    challengeGenerated: nothing,
    verification: nothing,
    delivery: nothing,
    rateLimited: nothing,
    rateLimitFailedOpen: nothing,
    geoReported: nothing,
    storeError: nothing,
    fraudDecision: nothing,
    rpcCompleted: nothing,
    render: async () => ({ contentType, body: "" }),
    stop: nothing,
  };
}

// Label values come from closed sets. Anything that does not look like one
// (too long, not starting with a letter, or with characters an e-mail
// address or phone number needs) is folded into "other", so a mistake
// cannot leak a code or recipient, nor explode cardinality.
const labelPattern = /^\/?[A-Za-z][A-Za-z0-9_./-]{0,63}$/;

function label(value: string): string {
  return labelPattern.test(value) ? value : "other";
}
