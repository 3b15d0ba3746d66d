import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey } from "../support/api-keys.js";
import { callJson } from "../support/connect-json.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";

// Two replicas on one Redis: a Telegram target that waits 1 s for its code
// to be used before the SMS target is tried. Whichever replica claims the
// timer sends; the other never does.
let redis: RedisInstance;
let fakes: ProviderFakes;
let a: ServerProcess;
let b: ServerProcess;
let auth: Record<string, string>;

beforeAll(async () => {
  [redis, fakes] = await Promise.all([startRedis(), startProviderFakes()]);
  const env = {
    ...productionEnv(),
    ...providerEnv(fakes),
    REDIS_URL: redis.url,
    LOG_LEVEL: "warn",
    WORKERS: "1",
    RATE_LIMIT_SENDS_PER_RECIPIENT: "off",
    RESEND_COOLDOWN_SECONDS: "0",
    FRAUD_GUARD: "off",
    WEBHOOK_POLL_MS: "100",
  };
  [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
  const tenant = await callJson(
    a.url,
    "otp.v1.AdminService/CreateTenant",
    { name: "fallback" },
    { authorization: `Bearer ${testAdminToken}` },
  );
  const key = await createApiKey(a.url, testAdminToken, {
    tenantId: (tenant.body.tenant as { id: string }).id,
    scopes: ["SCOPE_GENERATE", "SCOPE_VERIFY"],
  });
  auth = { authorization: `Bearer ${key}` };
  // The tenant's own SMS template: a fallback sent later, from a timer, uses it too.
  await callJson(
    a.url,
    "otp.v1.AdminService/UpdateTenantSettings",
    {
      tenantId: (tenant.body.tenant as { id: string }).id,
      settings: { templates: [{ channel: "CHANNEL_SMS", text: "Fallback Co code: {{code}}" }] },
    },
    { authorization: `Bearer ${testAdminToken}` },
  );
}, 60_000);

afterAll(async () => {
  for (const server of [a, b]) server?.child.kill("SIGTERM");
  await Promise.all([a?.exited, b?.exited]);
  await Promise.all([redis?.stop(), fakes?.close()]);
});

beforeEach(() => fakes.reset());

const targets = [
  { channel: "CHANNEL_TELEGRAM", recipient: "8101", fallbackAfterSeconds: 1 },
  { channel: "CHANNEL_SMS", recipient: "+14155552671" },
];
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const telegramCode = () =>
  /(\d{6})/.exec(String(fakes.telegram.callsTo("sendMessage")[0]?.body.text))?.[1] ?? "";

describe("fallback on silence across two replicas", () => {
  it("hands over to the next target once, with the same code, when the code is not used in time", async () => {
    const made = await callJson(
      a.url,
      "otp.v1.OtpService/Generate",
      { deliveryTargets: targets },
      auth,
    );
    expect(made.body).toMatchObject({ id: expect.any(String) });
    expect(fakes.twilio.messages).toHaveLength(0);
    await expect.poll(() => fakes.twilio.messages.length, { timeout: 4_000 }).toBe(1);
    // Long after the timer, still one SMS: neither replica sent it twice.
    await pause(1_500);
    expect(fakes.twilio.messages).toHaveLength(1);
    expect(fakes.twilio.messages[0]?.body).toMatch(/^Fallback Co code: \d{6}$/);
    const sms = /(\d{6})/.exec(fakes.twilio.messages[0]?.body ?? "")?.[1];
    expect(sms).toBe(telegramCode());
    // Every step is in the challenge's delivery history.
    const seen = await callJson(
      b.url,
      "otp.v1.OtpService/GetChallenge",
      { id: made.body.id },
      auth,
    );
    const attempts = (
      seen.body.challenge as { deliveryAttempts: { channel: string; status: string }[] }
    ).deliveryAttempts;
    expect(attempts.map((x) => [x.channel, x.status])).toEqual([
      ["CHANNEL_TELEGRAM", "DELIVERY_ATTEMPT_STATUS_ACCEPTED"],
      ["CHANNEL_SMS", "DELIVERY_ATTEMPT_STATUS_ACCEPTED"],
    ]);
    const verified = await callJson(
      b.url,
      "otp.v1.OtpService/Verify",
      { id: made.body.id, code: sms },
      auth,
    );
    expect(verified.body.result).toBe("VERIFY_RESULT_VERIFIED");
  });

  it("sends nothing more once the code is verified, or the challenge canceled, in time", async () => {
    const verified = await callJson(
      a.url,
      "otp.v1.OtpService/Generate",
      { deliveryTargets: targets },
      auth,
    );
    const code = telegramCode();
    const result = await callJson(
      b.url,
      "otp.v1.OtpService/Verify",
      { id: verified.body.id, code },
      auth,
    );
    expect(result.body.result).toBe("VERIFY_RESULT_VERIFIED");
    const canceled = await callJson(
      a.url,
      "otp.v1.OtpService/Generate",
      { deliveryTargets: targets },
      auth,
    );
    await callJson(b.url, "otp.v1.OtpService/Cancel", { id: canceled.body.id }, auth);
    await pause(2_500);
    expect(fakes.twilio.messages).toHaveLength(0);
  });

  it("refuses a wait out of range as invalid_argument", async () => {
    const res = await callJson(
      a.url,
      "otp.v1.OtpService/Generate",
      { deliveryTargets: [{ ...targets[0], fallbackAfterSeconds: 3601 }, targets[1]] },
      auth,
    );
    expect(res.body.code).toBe("invalid_argument");
    expect(JSON.stringify(res.body)).toContain("FALLBACK_AFTER_INVALID");
  });
});
