import { type ResendFake, startResendFake } from "../fakes/resend-fake.js";
import { startTelegramFake, type TelegramFake } from "../fakes/telegram-fake.js";
import {
  startTelegramGatewayFake,
  type TelegramGatewayFake,
} from "../fakes/telegram-gateway-fake.js";
import { startTwilioFake, type TwilioFake } from "../fakes/twilio-fake.js";

/** The provider fakes a test service talks to, with the real SDKs (fetch for the Telegram Gateway). */
export interface ProviderFakes {
  telegram: TelegramFake;
  telegramGateway: TelegramGatewayFake;
  twilio: TwilioFake;
  resend: ResendFake;
  /** Forgets queued failures and recorded calls of every fake. */
  reset(): void;
  close(): Promise<void>;
}

/** The public URL Twilio is told to post status callbacks to; tests post them to the service itself. */
export const twilioStatusUrl = "https://otp.example.com/twilio/status";
/** The public URL the Telegram Gateway is told to post delivery reports to. */
export const gatewayReportUrl = "https://otp.example.com/telegram-gateway/reports";
/** The SMS and WhatsApp sender. */
export const twilioSender = "+14155550100";

/** Starts the Telegram, Telegram Gateway, Twilio and Resend fakes on 127.0.0.1. */
export async function startProviderFakes(): Promise<ProviderFakes> {
  const [telegram, telegramGateway, twilio, resend] = await Promise.all([
    startTelegramFake(),
    startTelegramGatewayFake(),
    startTwilioFake(),
    startResendFake(),
  ]);
  return {
    telegram,
    telegramGateway,
    twilio,
    resend,
    reset() {
      telegram.reset();
      telegramGateway.reset();
      twilio.reset();
      resend.reset();
    },
    async close() {
      await Promise.all([
        telegram.close(),
        telegramGateway.close(),
        twilio.close(),
        resend.close(),
      ]);
    },
  };
}

/**
 * The environment that points every channel at the fakes, with short retry
 * waits so failure tests stay fast. Telegram updates are off unless `env`
 * turns them on.
 */
export function providerEnv(fakes: ProviderFakes): Record<string, string> {
  return {
    TELEGRAM_BOT_TOKEN: fakes.telegram.token,
    TELEGRAM_API_ROOT: fakes.telegram.apiRoot,
    TELEGRAM_UPDATES: "off",
    TELEGRAM_DELETE_POLL_MS: "20",
    TWILIO_ACCOUNT_SID: fakes.twilio.accountSid,
    TWILIO_AUTH_TOKEN: fakes.twilio.authToken,
    TWILIO_SMS_FROM: twilioSender,
    TWILIO_WHATSAPP_FROM: twilioSender,
    TWILIO_BASE_URL: fakes.twilio.baseUrl,
    TWILIO_STATUS_CALLBACK_URL: twilioStatusUrl,
    SMS_ALLOWED_COUNTRIES: "US,ES,GB",
    RESEND_API_KEY: fakes.resend.apiKey,
    EMAIL_FROM: "Acme <login@mail.example.com>",
    RESEND_BASE_URL: fakes.resend.baseUrl,
    DELIVERY_RETRY_MAX_ATTEMPTS: "3",
    DELIVERY_RETRY_BASE_MS: "5",
    DELIVERY_RETRY_MAX_DELAY_MS: "20",
    DELIVERY_RETRY_BUDGET_MS: "3000",
    DELIVERY_FALLBACK_BUDGET_MS: "400",
    PROVIDER_TIMEOUT_MS: "1000",
  };
}

/** The voice caller id. */
export const twilioVoiceSender = "+14155550199";

/**
 * The environment that adds the Telegram Gateway (with delivery reports)
 * and Twilio voice to {@link providerEnv}.
 */
export function gatewayAndVoiceEnv(fakes: ProviderFakes): Record<string, string> {
  return {
    TELEGRAM_GATEWAY_TOKEN: fakes.telegramGateway.token,
    TELEGRAM_GATEWAY_BASE_URL: fakes.telegramGateway.baseUrl,
    TELEGRAM_GATEWAY_CALLBACK_URL: gatewayReportUrl,
    TWILIO_VOICE_FROM: twilioVoiceSender,
  };
}
