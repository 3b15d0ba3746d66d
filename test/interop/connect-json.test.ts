import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { createApiKey } from "../support/api-keys.js";
import { callJson, errorReason, retryDelaySeconds } from "../support/connect-json.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";

// The Connect protocol from a client we did not write or generate: fetch and hand-built JSON.
let server: RunningServer;
const otp = "otp.v1.OtpService";

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const call = (method: string, body: unknown) => callJson(server.url, `${otp}/${method}`, body);

describe("Connect JSON over HTTP/1.1", () => {
  it("generates, verifies once, and describes a challenge", async () => {
    const gen = await call("Generate", { ttlSeconds: 120, codeLength: 8 });
    expect(gen.status).toBe(200);
    const { id, code, expiresAt } = gen.body as { id: string; code: string; expiresAt: string };
    expect(code).toMatch(/^\d{8}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(100_000);

    const ok = await call("Verify", { id, code });
    expect(ok.body).toMatchObject({
      result: "VERIFY_RESULT_VERIFIED",
      status: "CHALLENGE_STATUS_VERIFIED",
    });
    const again = await call("Verify", { id, code });
    expect(again.body.result).toBe("VERIFY_RESULT_ALREADY_VERIFIED");

    const got = await call("GetChallenge", { id });
    expect(got.body.challenge).toMatchObject({
      id,
      status: "CHALLENGE_STATUS_VERIFIED",
      codeLength: 8,
    });
    expect(JSON.stringify(got.body)).not.toContain(code);
  });

  it("serves read-only calls over GET", async () => {
    const { body } = await call("Generate", {});
    const message = encodeURIComponent(JSON.stringify({ id: body.id }));
    const res = await fetch(
      `${server.url}/${otp}/GetChallenge?connect=v1&encoding=json&message=${message}`,
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { challenge: { id: string } }).challenge.id).toBe(body.id);
  });

  it.each([
    [{ ttlSeconds: 0.5 }, undefined],
    [{ ttlSeconds: 4000 }, "TTL_INVALID"],
    [{ maxAttempts: 100 }, "MAX_ATTEMPTS_INVALID"],
    [{ codeLength: 2 }, "CODE_LENGTH_INVALID"],
    [{ alphabet: 9 }, "ALPHABET_INVALID"],
    [{ deliveryTargets: [{ recipient: "a@b.co" }] }, "CHANNEL_INVALID"],
    [
      { deliveryTargets: [{ channel: "CHANNEL_EMAIL", recipient: "not-an-email" }] },
      "RECIPIENT_INVALID",
    ],
    [
      {
        deliveryTargets: [
          { channel: "CHANNEL_SMS", recipient: "+14155550100", selfDestructSeconds: 30 },
        ],
      },
      "SELF_DESTRUCT_INVALID",
    ],
    [
      {
        deliveryTargets: [
          { channel: "CHANNEL_TELEGRAM", recipient: "12345", selfDestructSeconds: 4 },
        ],
      },
      "SELF_DESTRUCT_INVALID",
    ],
    [{ idempotencyKey: "x".repeat(300) }, "IDEMPOTENCY_KEY_INVALID"],
    [{ binding: { big: "y".repeat(5000) } }, "BINDING_TOO_LARGE"],
  ])("refuses Generate %j as invalid_argument with reason %s", async (body, reason) => {
    const res = await call("Generate", body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_argument");
    if (reason !== undefined) expect(errorReason(res.body)).toBe(reason);
  });

  it("names a refused field in a google.rpc.BadRequest detail beside the ErrorInfo", async () => {
    const res = await call("Generate", { ttlSeconds: 4000 });
    const details = res.body.details as { type: string; value: string }[];
    expect(details.map((d) => d.type)).toEqual(["google.rpc.ErrorInfo", "google.rpc.BadRequest"]);
    // Decoded by hand from the standard wire format: field_violations = 1 { field = 1, reason = 3 }.
    const bytes = Buffer.from(details[1]?.value ?? "", "base64").toString("latin1");
    expect(bytes).toContain("ttl_seconds");
    expect(bytes).toContain("TTL_INVALID");
  });

  it("refuses a malformed id and an empty code, and reports an unknown id as not_found", async () => {
    const bad = await call("Verify", { id: "123", code: "123456" });
    expect([bad.body.code, errorReason(bad.body)]).toEqual(["invalid_argument", "ID_INVALID"]);
    const { body } = await call("Generate", {});
    const empty = await call("Verify", { id: body.id, code: "" });
    expect([empty.body.code, errorReason(empty.body)]).toEqual([
      "invalid_argument",
      "CODE_INVALID",
    ]);
    const unknown = await call("Verify", { id: crypto.randomUUID(), code: "123456" });
    expect([unknown.status, unknown.body.code, errorReason(unknown.body)]).toEqual([
      404,
      "not_found",
      "CHALLENGE_NOT_FOUND",
    ]);
    for (const method of ["GetChallenge", "Cancel", "Resend"]) {
      const res = await call(method, { id: crypto.randomUUID() });
      expect(res.body.code).toBe("not_found");
    }
  });

  it("does not count a refused request against the challenge", async () => {
    const { body } = await call("Generate", { maxAttempts: 2 });
    await call("Verify", { id: body.id, code: "" });
    await call("Verify", { id: body.id, code: "x".repeat(300) });
    const got = await call("GetChallenge", { id: body.id });
    expect((got.body.challenge as { attemptsRemaining: number }).attemptsRemaining).toBe(2);
  });

  it("answers Resend during the cooldown with resource_exhausted and the delay", async () => {
    const { body } = await call("Generate", {});
    const res = await call("Resend", { id: body.id });
    expect(res.status).toBe(429);
    expect([res.body.code, errorReason(res.body)]).toEqual([
      "resource_exhausted",
      "RESEND_COOLDOWN",
    ]);
    const delay = retryDelaySeconds(res.body) ?? -1;
    expect(delay).toBeGreaterThan(25);
    expect(delay).toBeLessThanOrEqual(30);
  });

  it("cancels a challenge so that its code no longer verifies", async () => {
    const { body } = await call("Generate", {});
    expect((await call("Cancel", { id: body.id })).body.status).toBe("CHALLENGE_STATUS_CANCELED");
    expect((await call("Verify", { id: body.id, code: body.code })).body.result).toBe(
      "VERIFY_RESULT_CANCELED",
    );
  });

  it("expires a code after its lifetime", async () => {
    const { body } = await call("Generate", { ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await call("Verify", { id: body.id, code: body.code })).body.result).toBe(
      "VERIFY_RESULT_EXPIRED",
    );
  });

  it("compares bindings by content and answers a mismatch without judging the code", async () => {
    const binding = { userId: "u-1", ip: "203.0.113.9", nested: { a: [1, 2], b: true } };
    const { body } = await call("Generate", { binding, maxAttempts: 3 });
    const mismatch = await call("Verify", {
      id: body.id,
      code: body.code,
      binding: { userId: "u-2" },
    });
    expect(mismatch.body).toMatchObject({
      result: "VERIFY_RESULT_BINDING_MISMATCH",
      attemptsRemaining: 2,
    });
    const reordered = { nested: { b: true, a: [1, 2] }, ip: "203.0.113.9", userId: "u-1" };
    const ok = await call("Verify", { id: body.id, code: body.code, binding: reordered });
    expect(ok.body.result).toBe("VERIFY_RESULT_VERIFIED");
  });

  it("lets 50 concurrent wrong guesses cost no more than max_attempts", async () => {
    const { body } = await call("Generate", { maxAttempts: 5 });
    const wrong = body.code === "000000" ? "111111" : "000000";
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => call("Verify", { id: body.id, code: wrong })),
    );
    const results = replies.map((r) => r.body.result);
    expect(results.filter((r) => r === "VERIFY_RESULT_INVALID_CODE")).toHaveLength(5);
    expect(results.filter((r) => r === "VERIFY_RESULT_ATTEMPTS_EXHAUSTED")).toHaveLength(45);
    expect((await call("Verify", { id: body.id, code: body.code })).body.result).toBe(
      "VERIFY_RESULT_ATTEMPTS_EXHAUSTED",
    );
  });

  it("verifies 20 concurrent right guesses exactly once", async () => {
    const { body } = await call("Generate", {});
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => call("Verify", { id: body.id, code: body.code })),
    );
    const results = replies.map((r) => r.body.result);
    expect(results.filter((r) => r === "VERIFY_RESULT_VERIFIED")).toHaveLength(1);
    expect(results.filter((r) => r === "VERIFY_RESULT_ALREADY_VERIFIED")).toHaveLength(19);
  });

  it("delivers through the dev outbox and shows the message there", async () => {
    const { body } = await call("Generate", {
      deliveryTargets: [{ channel: "CHANNEL_SMS", recipient: "+14155550100" }],
    });
    expect(body.code ?? "").toBe("");
    expect(body.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.deliveryAttempts).toEqual([
      expect.objectContaining({
        channel: "CHANNEL_SMS",
        recipientMasked: "+1******0100",
        status: "DELIVERY_ATTEMPT_STATUS_ACCEPTED",
        viaOutbox: true,
      }),
    ]);
    const outbox = await callJson(server.url, "otp.v1.DeliveryService/ListOutbox", {
      challengeId: body.id,
    });
    const [message] = outbox.body.messages as {
      text: string;
      recipient: string;
      channel: string;
    }[];
    expect(message).toMatchObject({ recipient: "+14155550100", channel: "CHANNEL_SMS" });
    const code = /(\d{6})/.exec(message?.text ?? "")?.[1];
    expect((await call("Verify", { id: body.id, code })).body.result).toBe(
      "VERIFY_RESULT_VERIFIED",
    );
  });

  it("refuses an outbox page size out of range", async () => {
    const res = await callJson(server.url, "otp.v1.DeliveryService/ListOutbox", { pageSize: 501 });
    expect([res.body.code, errorReason(res.body)]).toEqual([
      "invalid_argument",
      "PAGE_SIZE_INVALID",
    ]);
  });

  it("lists every channel with whether a provider or the outbox serves it", async () => {
    const res = await callJson(server.url, "otp.v1.DeliveryService/ListChannels", {});
    const channels = res.body.channels as { channel: string; servedByOutbox?: boolean }[];
    expect(channels.map((c) => c.channel).sort()).toEqual([
      "CHANNEL_EMAIL",
      "CHANNEL_OUTBOX",
      "CHANNEL_SMS",
      "CHANNEL_TELEGRAM",
      "CHANNEL_TELEGRAM_GATEWAY",
      "CHANNEL_VOICE",
      "CHANNEL_WHATSAPP",
    ]);
    expect(channels.find((c) => c.channel === "CHANNEL_EMAIL")?.servedByOutbox).toBe(true);
  });

  it("answers an unexpected failure with an opaque internal error and a request id", async () => {
    const broken = await startTestServer(
      {},
      {
        store: {
          ...server.store,
          description: "broken",
          createChallenge: async () => {
            throw new Error("connection to redis://10.0.0.1 lost while writing +14155550100");
          },
        },
      },
    );
    try {
      const res = await callJson(broken.url, `${otp}/Generate`, {});
      expect(res.status).toBe(500);
      expect(res.body.code).toBe("internal");
      expect(errorReason(res.body)).toBe("INTERNAL");
      expect(JSON.stringify(res.body)).not.toMatch(/redis|14155550100/);
      expect(String(res.body.message)).toContain(res.headers.get("x-request-id") ?? "missing");
    } finally {
      await broken.close();
    }
  });
});

describe("production mode", () => {
  it("refuses the outbox", async () => {
    const prod = await startTestServer(productionEnv());
    try {
      const key = await createApiKey(prod.url, testAdminToken, {
        scopes: ["SCOPE_GENERATE", "SCOPE_SEND"],
      });
      const auth = { authorization: `Bearer ${key}` };
      const list = await callJson(prod.url, "otp.v1.DeliveryService/ListOutbox", {}, auth);
      expect([list.body.code, errorReason(list.body)]).toEqual([
        "failed_precondition",
        "OUTBOX_DISABLED",
      ]);
      const gen = await callJson(
        prod.url,
        `${otp}/Generate`,
        { deliveryTargets: [{ channel: "CHANNEL_OUTBOX", recipient: "dev" }] },
        auth,
      );
      expect([gen.body.code, errorReason(gen.body)]).toEqual([
        "failed_precondition",
        "CHANNEL_NOT_CONFIGURED",
      ]);
    } finally {
      await prod.close();
    }
  });
});

describe("CORS", () => {
  it("answers a preflight from a configured origin and not from others", async () => {
    const server = await startTestServer({ CORS_ORIGINS: "https://app.example.com" });
    try {
      const preflight = (origin: string) =>
        fetch(`${server.url}/otp.v1.OtpService/Generate`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,connect-protocol-version,x-grpc-web",
          },
        });
      const allowed = await preflight("https://app.example.com");
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
      expect(allowed.headers.get("access-control-allow-methods")).toContain("POST");
      expect(allowed.headers.get("access-control-allow-headers")?.toLowerCase()).toContain(
        "x-grpc-web",
      );
      const refused = await preflight("https://evil.example.net");
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();

      const actual = await fetch(`${server.url}/otp.v1.OtpService/Generate`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://app.example.com" },
        body: "{}",
      });
      expect(actual.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
      expect(actual.headers.get("access-control-expose-headers")?.toLowerCase()).toContain(
        "grpc-status",
      );
    } finally {
      await server.close();
    }
  });
});
