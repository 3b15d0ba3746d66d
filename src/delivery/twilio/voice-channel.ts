import type twilio from "twilio";
import type { Channel, OutgoingMessage, SendOptions, SendReceipt } from "../channel.js";
import { DeliveryError } from "../delivery-error.js";
import { createOutageTracker } from "../outage-tracker.js";
import { normalizePhone, type PhonePolicy } from "../phone.js";
import { defaultRetryPolicy, type RetryPolicy } from "../retry.js";
import { createWithRetries } from "./twilio-channel.js";
import { twilioStatusCallbackUrl } from "./twilio-status.js";
import { codeCallTwiml, maxInlineTwimlLength, textCallTwiml } from "./voice-twiml.js";

type TwilioClient = ReturnType<typeof twilio>;

/** Options for {@link createTwilioVoiceChannel}. */
export interface TwilioVoiceChannelOptions {
  client: TwilioClient;
  /** The caller id: an E.164 number of the Twilio account. */
  from: string;
  /** The public URL of the status callback endpoint; the call's statuses are reported there. */
  statusCallbackUrl?: string;
  /** Allowed destination countries and number types. */
  phonePolicy: PhonePolicy;
  /** The locale spoken when a message names none; "en" by default. */
  defaultLocale?: string;
  retry?: RetryPolicy;
  /** For the retry jitter in tests. */
  random?: (maxExclusive: number) => number;
}

// How long the phone rings, and the longest a call may last, in seconds.
const ringSeconds = 30;
const callLimitSeconds = 120;

/**
 * The voice channel over Twilio's Calls API: a call whose inline TwiML reads
 * the code slowly, character by character, twice, in the message's locale
 * (see voice-twiml.ts). With a status callback URL, Twilio reports the call
 * as it rings, is answered and ends; the receipt's provider id is the call
 * SID. The number is checked like an SMS recipient before anything is sent.
 */
export function createTwilioVoiceChannel(options: TwilioVoiceChannelOptions): Channel {
  const { client } = options;
  const policy = options.retry ?? defaultRetryPolicy;
  const outage = createOutageTracker();

  return {
    kind: "voice",
    description: "Twilio Voice",
    async send(
      message: OutgoingMessage,
      deliveryId: string,
      sendOptions: SendOptions = {},
    ): Promise<SendReceipt> {
      try {
        const checked = normalizePhone(message.recipient, options.phonePolicy);
        if (!checked.ok) throw new DeliveryError("voice", checked.reason, { retryable: false });
        const spoken = { locale: message.code?.locale, defaultLocale: options.defaultLocale };
        const twiml =
          message.code === undefined
            ? textCallTwiml({ ...spoken, text: message.text })
            : codeCallTwiml({ ...spoken, code: message.code.code });
        if (twiml.length > maxInlineTwimlLength) {
          throw new DeliveryError("voice", "CONTENT_NOT_SUPPORTED", { retryable: false });
        }
        const params: Parameters<TwilioClient["calls"]["create"]>[0] = {
          to: checked.e164,
          from: options.from,
          twiml,
          timeout: ringSeconds,
          timeLimit: callLimitSeconds,
          ...(options.statusCallbackUrl === undefined
            ? {}
            : {
                statusCallback: twilioStatusCallbackUrl(options.statusCallbackUrl, deliveryId),
                statusCallbackMethod: "POST",
                statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
              }),
        };
        const receipt = await createWithRetries("voice", () => client.calls.create(params), {
          policy,
          sendOptions,
          random: options.random,
        });
        outage.succeeded();
        return receipt;
      } catch (err) {
        if (err instanceof DeliveryError) outage.failed(err);
        throw err;
      }
    },
    healthy: async () => outage.healthy(),
  };
}
