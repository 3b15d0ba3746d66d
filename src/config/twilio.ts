import { type Area, type Context, text, url, type Values } from "./schema.js";
import { mountable } from "./telegram.js";

/** Twilio, shared by the SMS and WhatsApp channels. */
export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  /** The SMS sender: an E.164 number or an alphanumeric sender id. */
  smsFrom: string | undefined;
  /** The WhatsApp sender, an E.164 number; the WhatsApp channel exists only with it. */
  whatsappFrom: string | undefined;
  /** The caller id of voice calls, an E.164 number; the voice channel exists only with it. */
  voiceFrom: string | undefined;
  /** A Messaging Service (MG...) used for SMS instead of smsFrom. */
  messagingServiceSid: string | undefined;
  /** An approved WhatsApp authentication template (HX...) for code messages. */
  whatsappContentSid: string | undefined;
  baseUrl: string | undefined;
  /** The public URL Twilio posts status callbacks to; its path is served on our port. */
  statusCallbackUrl: string | undefined;
  /** The lines that let phones fill in a code sent by SMS. */
  smsAutofill: { appHash?: string; domain?: string };
}

const sid = (prefix: string) => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`);
const needsSid = ["TWILIO_ACCOUNT_SID"];

/** SMS and WhatsApp over Twilio: turned on by the account SID. */
export const twilioVariables = {
  TWILIO_ACCOUNT_SID: text({
    pattern: sid("AC"),
    what: "an account SID (AC followed by 32 hex digits)",
    allowed: "`AC` and 32 hex digits",
    defaultText: "unset (no SMS or WhatsApp)",
    description:
      "The account SID; it turns Twilio on, and needs `TWILIO_AUTH_TOKEN` and a sender (`TWILIO_SMS_FROM`, `TWILIO_MESSAGING_SERVICE_SID`, `TWILIO_WHATSAPP_FROM` or `TWILIO_VOICE_FROM`).",
  }),
  TWILIO_AUTH_TOKEN: text({
    secret: true,
    needs: needsSid,
    requiredWith: { name: "TWILIO_ACCOUNT_SID" },
    defaultText: "unset",
    description: "The auth token; it also checks the signatures of status callbacks.",
  }),
  TWILIO_SMS_FROM: text({
    needs: needsSid,
    pattern: /^(\+[1-9]\d{6,14}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$/,
    what: "an E.164 number like +14155550100 or an alphanumeric sender id of up to 11 characters",
    allowed: "E.164 number, or an alphanumeric sender id of up to 11 characters",
    defaultText: "unset",
    description: "The SMS sender; it (or a messaging service) turns SMS on.",
  }),
  TWILIO_MESSAGING_SERVICE_SID: text({
    needs: needsSid,
    pattern: sid("MG"),
    what: "a Messaging Service SID (MG followed by 32 hex digits)",
    allowed: "`MG` and 32 hex digits",
    defaultText: "unset",
    description: "A Messaging Service that sends SMS instead of `TWILIO_SMS_FROM`.",
  }),
  TWILIO_WHATSAPP_FROM: text({
    needs: needsSid,
    pattern: /^\+[1-9]\d{6,14}$/,
    what: "an E.164 number like +14155550100, without the whatsapp: prefix",
    allowed: "E.164 number, without `whatsapp:`",
    defaultText: "unset",
    description: "The WhatsApp sender; it turns WhatsApp on.",
  }),
  TWILIO_VOICE_FROM: text({
    needs: needsSid,
    pattern: /^\+[1-9]\d{6,14}$/,
    what: "an E.164 number like +14155550100 that can make calls",
    allowed: "E.164 number",
    defaultText: "unset (no voice)",
    description:
      "The caller id of voice calls; it turns the voice channel on. Calls follow the SMS countries and number types (`SMS_ALLOWED_COUNTRIES`).",
  }),
  TWILIO_WHATSAPP_CONTENT_SID: text({
    needs: [...needsSid, "TWILIO_WHATSAPP_FROM"],
    pattern: sid("HX"),
    what: "a Content SID (HX followed by 32 hex digits)",
    allowed: "`HX` and 32 hex digits",
    defaultText: "unset (free text)",
    description: "An approved WhatsApp authentication template for codes, the code as variable 1.",
  }),
  SMS_RETRIEVER_APP_HASH: text({
    pattern: /^[A-Za-z0-9+/]{11}$/,
    what: "the 11-character hash of an Android app (Google's SMS Retriever API)",
    allowed: "11 characters of base64",
    defaultText: "unset",
    description:
      "Added to every SMS that carries a code, so the Android app with this hash reads the code without asking (SMS Retriever API).",
  }),
  SMS_ORIGIN_BOUND_DOMAIN: text({
    pattern: /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    what: "a lower-case domain name like login.example.com",
    allowed: "a domain name",
    defaultText: "unset",
    description:
      "Ends every SMS that carries a code with the origin-bound line `@<domain> #<code>`, so browsers (WebOTP) and phone keyboards offer the code to that site only.",
  }),
  TWILIO_BASE_URL: url({
    needs: needsSid,
    defaultText: "Twilio's own",
    description: "Another origin for Twilio's API (a fake in tests).",
  }),
  TWILIO_STATUS_CALLBACK_URL: url({
    needs: needsSid,
    defaultText: "unset (no callbacks)",
    description:
      "The public URL Twilio posts message and call statuses to (use https); its path is served on `PORT` and must be one of its own, as for `TELEGRAM_WEBHOOK_URL`.",
  }),
};

/** The Twilio area of the reference. */
export const twilioArea: Area = {
  title: "SMS, WhatsApp and voice (Twilio)",
  summary:
    "Twilio carries the phone channels: SMS, WhatsApp and voice calls. Every `TWILIO_*` variable marked so needs `TWILIO_ACCOUNT_SID`. Which countries each channel may reach is under [Delivery](#delivery).",
  variables: twilioVariables,
};

/** Builds Twilio; undefined without a valid account SID and a token. */
export function readTwilio(
  v: Values<typeof twilioVariables>,
  ctx: Context,
): TwilioConfig | undefined {
  const senders = [
    "TWILIO_SMS_FROM",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_WHATSAPP_FROM",
    "TWILIO_VOICE_FROM",
  ];
  if (ctx.isSet("TWILIO_ACCOUNT_SID") && !senders.some((name) => ctx.isSet(name))) {
    ctx.problem(
      "TWILIO_ACCOUNT_SID",
      "set TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID (SMS), and/or TWILIO_WHATSAPP_FROM (WhatsApp), and/or TWILIO_VOICE_FROM (voice)",
    );
  }
  const statusCallbackUrl = mountable(
    "TWILIO_STATUS_CALLBACK_URL",
    v.TWILIO_STATUS_CALLBACK_URL,
    ctx,
  );
  if (v.TWILIO_ACCOUNT_SID === undefined || v.TWILIO_AUTH_TOKEN === undefined) return undefined;
  return {
    accountSid: v.TWILIO_ACCOUNT_SID,
    authToken: v.TWILIO_AUTH_TOKEN,
    smsFrom: v.TWILIO_SMS_FROM,
    whatsappFrom: v.TWILIO_WHATSAPP_FROM,
    voiceFrom: v.TWILIO_VOICE_FROM,
    messagingServiceSid: v.TWILIO_MESSAGING_SERVICE_SID,
    whatsappContentSid: v.TWILIO_WHATSAPP_CONTENT_SID,
    baseUrl: v.TWILIO_BASE_URL,
    statusCallbackUrl,
    smsAutofill: {
      ...(v.SMS_RETRIEVER_APP_HASH === undefined ? {} : { appHash: v.SMS_RETRIEVER_APP_HASH }),
      ...(v.SMS_ORIGIN_BOUND_DOMAIN === undefined ? {} : { domain: v.SMS_ORIGIN_BOUND_DOMAIN }),
    },
  };
}
