import { type ResendFake, startResendFake } from "../fakes/resend-fake.js";
import { startTelegramFake, type TelegramFake } from "../fakes/telegram-fake.js";
import { startTwilioFake, type TwilioFake } from "../fakes/twilio-fake.js";

/** The three provider fakes a test service talks to, with the real SDKs. */
export interface ProviderFakes {
  telegram: TelegramFake;
  twilio: TwilioFake;
  resend: ResendFake;
  /** Forgets queued failures and recorded calls of every fake. */
  reset(): void;
  close(): Promise<void>;
}

/** The public URL Twilio is told to post status callbacks to; tests post them to the service itself. */
export const twilioStatusUrl = "https://otp.example.com/twilio/status";
/** The SMS and WhatsApp sender. */
export const twilioSender = "+14155550100";

/** Starts the Telegram, Twilio and Resend fakes on 127.0.0.1. */
export async function startProviderFakes(): Promise<ProviderFakes> {
  const [telegram, twilio, resend] = await Promise.all([
    startTelegramFake(),
    startTwilioFake(),
    startResendFake(),
  ]);
  return {
    telegram,
    twilio,
    resend,
    reset() {
      telegram.reset();
      twilio.reset();
      resend.reset();
    },
    async close() {
      await Promise.all([telegram.close(), twilio.close(), resend.close()]);
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
