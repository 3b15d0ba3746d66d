import type { TelegramGatewayConfig } from "../config/index.js";
import { advancesStatus, deliveryStatusOf } from "../delivery/delivery-view.js";
import type { GatewayReport } from "../delivery/telegram-gateway/gateway-report.js";
import type { ProviderParts, ProvidersOptions } from "./provider-parts.js";

/**
 * Wires the Telegram Gateway channel (Node's fetch; no SDK) and, with a
 * callback URL, the signed delivery reports that record sent, delivered,
 * expired and revoked on the delivery.
 */
export async function wireTelegramGateway(
  gateway: TelegramGatewayConfig,
  options: ProvidersOptions,
  parts: ProviderParts,
): Promise<void> {
  const { config } = options;
  const [
    { createGatewayClient },
    { createTelegramGatewayChannel },
    { createGatewayReportHandler },
  ] = await Promise.all([
    import("../delivery/telegram-gateway/gateway-client.js"),
    import("../delivery/telegram-gateway/gateway-channel.js"),
    import("../delivery/telegram-gateway/gateway-report.js"),
  ]);
  const client = createGatewayClient({
    token: gateway.token,
    baseUrl: gateway.baseUrl,
    requestTimeoutMs: config.providerTimeoutMs,
  });
  parts.channels.push(
    createTelegramGatewayChannel({
      client,
      callbackUrl: gateway.callbackUrl,
      senderUsername: gateway.senderUsername,
      phonePolicy: options.recipients.telegram_gateway ?? options.recipients.sms,
      retry: config.retry,
    }),
  );
  if (gateway.callbackUrl !== undefined) {
    const path = new URL(gateway.callbackUrl).pathname;
    parts.gatewayReports = true;
    parts.mounts.push({
      path,
      handler: createGatewayReportHandler({
        token: gateway.token,
        maxAgeMs: gateway.reportMaxAgeMs,
        now: options.now,
        onReport: (report) => recordReport(options, report),
      }),
    });
    parts.notes.push(`tg gateway delivery reports at ${path}`);
  }
}

const defaultTenant = "default";

// Records a delivery report on its delivery: only news, and only for the
// request the delivery sent.
async function recordReport(
  { store, metrics, now, onStatusReport }: ProvidersOptions,
  report: GatewayReport,
): Promise<void> {
  if (report.status === undefined) return;
  const current = await store.getDelivery(report.deliveryId, now());
  // Forgotten, another channel's, or a request that is not this delivery's: dropped.
  if (current === undefined || current.channel !== "telegram_gateway") return;
  if (current.providerMessageId !== report.requestId) return;
  if (!advancesStatus(deliveryStatusOf(current.events), report.status)) return;
  await store.appendDeliveryEvent(report.deliveryId, {
    status: report.status,
    atMs: now(),
    reason: report.reason,
    attempt: 0,
  });
  if (report.status === "delivered" || report.status === "failed") {
    const outcome = report.status === "delivered" ? "delivered" : "undelivered";
    metrics.delivery("telegram_gateway", outcome, current.tenantId ?? defaultTenant);
  }
  onStatusReport?.(current, report.status);
}
