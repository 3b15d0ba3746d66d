import type { TwilioConfig } from "../config/index.js";
import { advancesStatus, deliveryStatusOf } from "../delivery/delivery-view.js";
import type { TwilioStatusEvent } from "../delivery/twilio/twilio-status.js";
import type { ProviderParts, ProvidersOptions } from "./provider-parts.js";

/**
 * Wires the SMS, WhatsApp and voice channels (twilio, loaded only here) and,
 * with a status callback URL, the signed status callbacks of messages and
 * calls that record sent, delivered and failed on the delivery.
 */
export async function wireTwilio(
  twilio: TwilioConfig,
  options: ProvidersOptions,
  parts: ProviderParts,
): Promise<void> {
  const { config, templates } = options;
  const retry = config.retry;
  const [
    { createTwilioChannel, createTwilioClient },
    { createTwilioStatusHandler, twilioFailureReason },
    { createTwilioVoiceChannel },
  ] = await Promise.all([
    import("../delivery/twilio/twilio-channel.js"),
    import("../delivery/twilio/twilio-status.js"),
    import("../delivery/twilio/voice-channel.js"),
  ]);
  const tw = twilio;
  const client = createTwilioClient({
    accountSid: tw.accountSid,
    authToken: tw.authToken,
    baseUrl: tw.baseUrl,
    requestTimeoutMs: config.providerTimeoutMs,
  });
  const common = {
    client,
    statusCallbackUrl: tw.statusCallbackUrl,
    templates,
    retry,
  };
  if (tw.smsFrom !== undefined || tw.messagingServiceSid !== undefined) {
    parts.channels.push(
      createTwilioChannel({
        ...common,
        kind: "sms",
        from: tw.smsFrom,
        autofill: tw.smsAutofill,
        messagingServiceSid: tw.messagingServiceSid,
        phonePolicy: options.recipients.sms,
      }),
    );
  }
  if (tw.whatsappFrom !== undefined) {
    parts.channels.push(
      createTwilioChannel({
        ...common,
        kind: "whatsapp",
        from: tw.whatsappFrom,
        whatsappContentSid: tw.whatsappContentSid,
        phonePolicy: options.recipients.whatsapp,
      }),
    );
  }
  if (tw.voiceFrom !== undefined) {
    parts.channels.push(
      createTwilioVoiceChannel({
        client,
        from: tw.voiceFrom,
        statusCallbackUrl: tw.statusCallbackUrl,
        phonePolicy: options.recipients.voice ?? options.recipients.sms,
        defaultLocale: templates.defaultLocale,
        retry,
      }),
    );
  }
  if (tw.statusCallbackUrl !== undefined) {
    parts.twilioReports = true;
    parts.mounts.push({
      path: new URL(tw.statusCallbackUrl).pathname,
      handler: createTwilioStatusHandler({
        authToken: tw.authToken,
        publicUrl: tw.statusCallbackUrl,
        onStatus: (e) => recordStatus(options, e, twilioFailureReason),
      }),
    });
    parts.notes.push(`twilio     status callbacks at ${new URL(tw.statusCallbackUrl).pathname}`);
  }
}

const defaultTenant = "default";

// Records a status callback on its delivery: only news, and only for the
// message the delivery sent.
async function recordStatus(
  { store, metrics, now, onStatusReport }: ProvidersOptions,
  e: TwilioStatusEvent,
  failureReason: (errorCode: string | undefined) => string,
): Promise<void> {
  const current = await store.getDelivery(e.deliveryId, now());
  // Forgotten, or a SID that is not this delivery's: acknowledged and dropped.
  if (current === undefined) return;
  if (current.providerMessageId !== "" && current.providerMessageId !== e.providerMessageId) {
    return;
  }
  // Twilio repeats and reorders callbacks; only news is recorded.
  if (!advancesStatus(deliveryStatusOf(current.events), e.status)) return;
  await store.appendDeliveryEvent(
    e.deliveryId,
    {
      status: e.status,
      atMs: now(),
      reason: e.status === "failed" ? (e.callFailureReason ?? failureReason(e.errorCode)) : "",
      attempt: 0,
    },
    e.providerMessageId,
  );
  if (e.status === "delivered" || e.status === "failed") {
    const outcome = e.status === "delivered" ? "delivered" : "undelivered";
    // Counted for the delivery's tenant, as the send was.
    metrics.delivery(e.channel, outcome, current.tenantId ?? defaultTenant);
  }
  onStatusReport?.(current, e.status);
}
