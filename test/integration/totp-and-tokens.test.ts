import { createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/otp/v1/admin_pb.js";
import { OtpService, VerifyResult } from "../../gen/otp/v1/otp_pb.js";
import { TotpResult } from "../../gen/otp/v1/totp_pb.js";
import type { RunningServer } from "../../src/app.js";
import { createApiKey } from "../support/api-keys.js";
import { callJson } from "../support/connect-json.js";
import { createFakeClock, type FakeClock } from "../support/fake-clock.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { testAdminToken, testSigningJwk } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";

let redis: RedisInstance;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const step = 30_000;
const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

const stores = {
  memory: () => ({}),
  redis: () => ({ REDIS_URL: redis.url, OTP_HMAC_SECRET: "h".repeat(40) }),
};

for (const [name, storeEnv] of Object.entries(stores)) {
  describe(`TOTP on the ${name} store`, () => {
    let server: RunningServer;
    let clock: FakeClock;
    let client: ReturnType<typeof createClient<typeof OtpService>>;

    beforeAll(async () => {
      // Start at the beginning of a time step so "one step either side" is exact.
      clock = createFakeClock(Math.ceil(Date.now() / step) * step + 1_000);
      server = await startTestServer(
        {
          ...storeEnv(),
          REDIS_KEY_PREFIX: `totp-${name}-${Date.now()}:`,
          TOTP_MAX_FAILURES: "3",
          ADMIN_TOKEN: testAdminToken,
        },
        { now: clock.now },
      );
      client = createClient(
        OtpService,
        createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
      );
    });
    afterAll(async () => {
      await server.close();
    });

    async function enrolled() {
      const e = await client.enrollTotp({ accountName: "ada@example.com", issuer: "Acme" });
      const confirmed = await client.confirmTotp({
        factorId: e.factorId,
        code: await codeAt(e.secret, clock.now()),
      });
      expect(confirmed.result).toBe(TotpResult.VERIFIED);
      return { ...e, recoveryCodes: confirmed.recoveryCodes };
    }

    it("enrols with a URI and QR codes, and stays pending until a current code proves the app", async () => {
      const e = await client.enrollTotp({ accountName: "ada@example.com", issuer: "Acme" });
      expect(e.otpauthUri).toMatch(/^otpauth:\/\/totp\/Acme:ada%40example\.com\?/);
      expect(e.otpauthUri).toContain(`secret=${e.secret}`);
      expect(e.qrCodeSvg).toMatch(/^<svg/);
      expect(e.qrCodePngDataUrl).toMatch(/^data:image\/png;base64,/);
      expect(
        (
          await client.verifyTotp({
            factorId: e.factorId,
            code: await codeAt(e.secret, clock.now()),
          })
        ).result,
      ).toBe(TotpResult.NOT_CONFIRMED);
      const wrong = await client.confirmTotp({
        factorId: e.factorId,
        code: "000000" === (await codeAt(e.secret, clock.now())) ? "111111" : "000000",
      });
      expect(wrong.result).toBe(TotpResult.INVALID_CODE);
      expect(wrong.recoveryCodes).toEqual([]);
      const ok = await client.confirmTotp({
        factorId: e.factorId,
        code: await codeAt(e.secret, clock.now()),
      });
      expect(ok.result).toBe(TotpResult.VERIFIED);
      expect(new Set(ok.recoveryCodes).size).toBe(10);
      const again = await client
        .confirmTotp({ factorId: e.factorId, code: "123456" })
        .catch((err) => ConnectError.from(err));
      expect((again as ConnectError).code).toBe(Code.FailedPrecondition);
    });

    it("accepts one step either side of now and nothing further", async () => {
      const { factorId, secret } = await enrolled();
      clock.advance(3 * step);
      const now = clock.now();
      expect(
        (await client.verifyTotp({ factorId, code: await codeAt(secret, now - 2 * step) })).result,
      ).toBe(TotpResult.INVALID_CODE);
      expect(
        (await client.verifyTotp({ factorId, code: await codeAt(secret, now + 2 * step) })).result,
      ).toBe(TotpResult.INVALID_CODE);
      expect(
        (await client.verifyTotp({ factorId, code: await codeAt(secret, now - step) })).result,
      ).toBe(TotpResult.VERIFIED);
      expect(
        (await client.verifyTotp({ factorId, code: await codeAt(secret, now + step) })).result,
      ).toBe(TotpResult.VERIFIED);
    });

    it("never accepts the same time step twice, even from concurrent calls", async () => {
      const { factorId, secret } = await enrolled();
      clock.advance(step);
      const code = await codeAt(secret, clock.now());
      const results = await Promise.all(
        Array.from({ length: 10 }, () => client.verifyTotp({ factorId, code })),
      );
      expect(results.filter((r) => r.result === TotpResult.VERIFIED)).toHaveLength(1);
      expect(results.filter((r) => r.result === TotpResult.REPLAYED)).toHaveLength(9);
      // An older step, though inside the window, is a replay too once a newer one was used.
      expect(
        (await client.verifyTotp({ factorId, code: await codeAt(secret, clock.now() - step) }))
          .result,
      ).toBe(TotpResult.REPLAYED);
    });

    it("locks a factor out after repeated wrong codes, refusing even the right one until it ends", async () => {
      const { factorId, secret } = await enrolled();
      clock.advance(step);
      const right = await codeAt(secret, clock.now());
      const wrong = right === "000000" ? "111111" : "000000";
      const first = await client.verifyTotp({ factorId, code: wrong });
      expect([first.result, first.attemptsRemaining]).toEqual([TotpResult.INVALID_CODE, 2]);
      await client.verifyTotp({ factorId, code: wrong });
      const locked = await client.verifyTotp({ factorId, code: wrong });
      expect(locked.result).toBe(TotpResult.LOCKED_OUT);
      expect(locked.lockedUntil).toBeDefined();
      // The lock-out is in the audit trail, once, as a security event.
      const admin = createClient(
        AdminService,
        createConnectTransport({
          baseUrl: server.url,
          httpVersion: "1.1",
          interceptors: [
            (next) => (req) => {
              req.header.set("authorization", `Bearer ${testAdminToken}`);
              return next(req);
            },
          ],
        }),
      );
      await expect
        .poll(
          async () =>
            (
              await admin.listAuditEvents({
                filter: { actionPrefix: "totp.locked_out" },
                pageSize: 50,
              })
            ).events.filter((e) => e.target === factorId).length,
        )
        .toBe(1);
      expect((await client.verifyTotp({ factorId, code: right })).result).toBe(
        TotpResult.LOCKED_OUT,
      );
      clock.advance(300_000 + step);
      expect(
        (await client.verifyTotp({ factorId, code: await codeAt(secret, clock.now()) })).result,
      ).toBe(TotpResult.VERIFIED);
    });

    it("accepts each recovery code once", async () => {
      const { factorId, recoveryCodes } = await enrolled();
      const code = recoveryCodes[3] ?? "";
      const used = await client.verifyTotp({
        factorId,
        code: code.toLowerCase().replace("-", " "),
      });
      expect(used).toMatchObject({
        result: TotpResult.VERIFIED,
        usedRecoveryCode: true,
        recoveryCodesRemaining: 9,
      });
      expect((await client.verifyTotp({ factorId, code })).result).toBe(TotpResult.INVALID_CODE);
    });

    it("deletes a factor, after which it is not found", async () => {
      const { factorId, secret } = await enrolled();
      await client.deleteTotp({ factorId });
      const err = await client
        .verifyTotp({ factorId, code: await codeAt(secret, clock.now()) })
        .catch((e) => ConnectError.from(e));
      expect((err as ConnectError).code).toBe(Code.NotFound);
    });

    it("refuses a bad account name and a malformed factor id", async () => {
      for (const call of [
        () => client.enrollTotp({ accountName: "" }),
        () => client.enrollTotp({ accountName: "a:b" }),
        () => client.verifyTotp({ factorId: "nope", code: "123456" }),
      ]) {
        const err = await call().catch((e) => ConnectError.from(e));
        expect((err as ConnectError).code).toBe(Code.InvalidArgument);
      }
    });
  });
}

describe("secrets at rest in Redis", () => {
  it("keeps no TOTP secret or recovery code in the clear anywhere in Redis", async () => {
    const prefix = `dump-${Date.now()}:`;
    const server = await startTestServer({
      REDIS_URL: redis.url,
      OTP_HMAC_SECRET: "d".repeat(40),
      REDIS_KEY_PREFIX: prefix,
    });
    try {
      const client = createClient(
        OtpService,
        createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
      );
      const e = await client.enrollTotp({ accountName: "grace@example.com" });
      const confirmed = await client.confirmTotp({
        factorId: e.factorId,
        code: await codeAt(e.secret, Date.now()),
      });
      expect(confirmed.result).toBe(TotpResult.VERIFIED);
      const r = new Redis(redis.url);
      const dump: string[] = [];
      for (const key of await r.keys(`${prefix}*`)) {
        const type = await r.type(key);
        if (type === "hash") dump.push(JSON.stringify(await r.hgetall(key)));
        else if (type === "set") dump.push(JSON.stringify(await r.smembers(key)));
        else if (type === "string") dump.push((await r.get(key)) ?? "");
        else if (type === "list") dump.push(JSON.stringify(await r.lrange(key, 0, -1)));
      }
      await r.quit();
      const everything = dump.join("\n");
      expect(everything).toContain("sealed_secret");
      expect(everything).not.toContain(e.secret);
      for (const code of confirmed.recoveryCodes) {
        expect(everything).not.toContain(code);
        expect(everything).not.toContain(code.replace("-", ""));
      }
    } finally {
      await server.close();
    }
  });

  it("still opens factors after the encryption key rotates", async () => {
    const oldKey = randomBytes(32).toString("base64");
    const env = {
      REDIS_URL: redis.url,
      OTP_HMAC_SECRET: "e".repeat(40),
      REDIS_KEY_PREFIX: `rot-${Date.now()}:`,
    };
    const before = await startTestServer({ ...env, TOTP_ENCRYPTION_KEY: oldKey });
    const c1 = createClient(
      OtpService,
      createConnectTransport({ baseUrl: before.url, httpVersion: "1.1" }),
    );
    const e = await c1.enrollTotp({ accountName: "rotate@example.com" });
    await before.close();
    const after = await startTestServer({
      ...env,
      TOTP_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      TOTP_PREVIOUS_ENCRYPTION_KEYS: oldKey,
    });
    try {
      const c2 = createClient(
        OtpService,
        createConnectTransport({ baseUrl: after.url, httpVersion: "1.1" }),
      );
      const ok = await c2.confirmTotp({
        factorId: e.factorId,
        code: await codeAt(e.secret, Date.now()),
      });
      expect(ok.result).toBe(TotpResult.VERIFIED);
    } finally {
      await after.close();
    }
  });
});

describe("signed verification results", () => {
  it("signs a verified challenge and a verified factor, checkable against the published JWKS", async () => {
    const server = await startTestServer({
      TOKEN_ISSUER: "https://otp.example",
      TOKEN_AUDIENCE: "app-backend",
    });
    try {
      const client = createClient(
        OtpService,
        createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
      );
      const gen = await client.generate({ binding: { session: "s-1" } });
      const wrong = await client.verify({
        id: gen.id,
        code: gen.code === "000000" ? "111111" : "000000",
        issueToken: true,
      });
      expect(wrong.token).toBe("");
      const ok = await client.verify({
        id: gen.id,
        code: gen.code,
        binding: { session: "s-1" },
        issueToken: true,
      });
      expect(ok.result).toBe(VerifyResult.VERIFIED);
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(ok.token, jwks, {
        issuer: "https://otp.example",
        audience: "app-backend",
      });
      expect(payload.sub).toBe(gen.id);
      expect(payload.aud).toBe("app-backend");
      expect(payload.tenant).toBe("default");
      expect(payload.otp).toMatchObject({ kind: "challenge" });
      expect((payload.otp as { binding_hash: string }).binding_hash).not.toBe("");
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
      expect(ok.token).not.toContain(gen.code);

      const e = await client.enrollTotp({ accountName: "t@example.com" });
      await client.confirmTotp({ factorId: e.factorId, code: await codeAt(e.secret, Date.now()) });
      await new Promise((r) => setTimeout(r, 10));
      const totp = await client.verifyTotp({
        factorId: e.factorId,
        code: await codeAt(e.secret, Date.now() + step),
        issueToken: true,
      });
      const checked = await jwtVerify(totp.token, jwks, { issuer: "https://otp.example" });
      expect(checked.payload).toMatchObject({ sub: e.factorId, otp: { kind: "totp" } });
    } finally {
      await server.close();
    }
  });

  it("proves the binding with a keyed hash per tenant, and names the tenant as claim and default audience", async () => {
    const secret = "k".repeat(40);
    const server = await startTestServer({ OTP_HMAC_SECRET: secret, ADMIN_TOKEN: testAdminToken });
    try {
      const admin = { authorization: `Bearer ${testAdminToken}` };
      const created = await callJson(
        server.url,
        "otp.v1.AdminService/CreateTenant",
        { name: "acme" },
        admin,
      );
      const tenantId = (created.body.tenant as { id: string }).id;
      const key = await createApiKey(server.url, testAdminToken, { tenantId });
      const clientOf = (headers: Record<string, string>) =>
        createClient(
          OtpService,
          createConnectTransport({
            baseUrl: server.url,
            httpVersion: "1.1",
            interceptors: [
              (next) => (req) => {
                for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
                return next(req);
              },
            ],
          }),
        );
      const binding = { session: "s-1", amount: { value: 42, currency: "EUR" } };
      const canonical = '{"amount":{"currency":"EUR","value":42},"session":"s-1"}';
      const tokenFor = async (client: ReturnType<typeof clientOf>) => {
        const gen = await client.generate({ binding });
        // Key order does not matter: the binding is compared canonically.
        const ok = await client.verify({
          id: gen.id,
          code: gen.code,
          binding: { amount: { currency: "EUR", value: 42 }, session: "s-1" },
          issueToken: true,
        });
        expect(ok.result).toBe(VerifyResult.VERIFIED);
        return ok.token;
      };
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));

      // A development caller without a key belongs to the tenant "default".
      const anonymous = await jwtVerify(await tokenFor(clientOf({})), jwks, {
        issuer: "otp-service",
        audience: "default",
      });
      expect(anonymous.payload.tenant).toBe("default");
      const proof = (anonymous.payload.otp as { binding_hash: string }).binding_hash;
      // Not a plain hash anyone could recompute from a guessed binding...
      for (const plain of [
        createHash("sha256").update(`otp-binding\0${canonical}`).digest("base64url"),
        createHash("sha256").update(canonical).digest("base64url"),
        createHash("sha256").update(canonical).digest("hex"),
      ]) {
        expect(proof).not.toBe(plain);
      }
      // ...but the documented keyed derivation, which a tenant holding its key can check.
      const tenantKey = (tenant: string) =>
        Buffer.from(
          hkdfSync("sha256", secret, Buffer.alloc(0), `otp-token-binding-hash/v1\0${tenant}`, 32),
        );
      const expected = (tenant: string) =>
        createHmac("sha256", tenantKey(tenant)).update(canonical).digest("base64url");
      expect(proof).toBe(expected("default"));

      // A tenant's token: its own audience and claim, and a proof under its own key.
      const token = await tokenFor(clientOf({ authorization: `Bearer ${key}` }));
      const checked = await jwtVerify(token, jwks, { audience: tenantId });
      expect(checked.payload.tenant).toBe(tenantId);
      const tenantProof = (checked.payload.otp as { binding_hash: string }).binding_hash;
      expect(tenantProof).toBe(expected(tenantId));
      expect(tenantProof).not.toBe(proof);
      // Another tenant's audience check refuses it.
      await expect(jwtVerify(token, jwks, { audience: "default" })).rejects.toMatchObject({
        code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      });
    } finally {
      await server.close();
    }
  });

  it("rotates signing keys without breaking tokens already issued", async () => {
    const oldKey = testSigningJwk();
    const first = await startTestServer({ TOKEN_SIGNING_KEYS: JSON.stringify([oldKey]) });
    const c1 = createClient(
      OtpService,
      createConnectTransport({ baseUrl: first.url, httpVersion: "1.1" }),
    );
    const gen = await c1.generate({});
    const oldToken = (await c1.verify({ id: gen.id, code: gen.code, issueToken: true })).token;
    await first.close();

    const second = await startTestServer({
      TOKEN_SIGNING_KEYS: JSON.stringify([testSigningJwk(), oldKey]),
    });
    try {
      const jwks = createRemoteJWKSet(new URL(`${second.url}/.well-known/jwks.json`));
      await expect(jwtVerify(oldToken, jwks)).resolves.toBeDefined();
      const c2 = createClient(
        OtpService,
        createConnectTransport({ baseUrl: second.url, httpVersion: "1.1" }),
      );
      const g2 = await c2.generate({});
      const newToken = (await c2.verify({ id: g2.id, code: g2.code, issueToken: true })).token;
      expect(decodeProtectedHeader(newToken).kid).not.toBe(decodeProtectedHeader(oldToken).kid);
      await expect(jwtVerify(newToken, jwks)).resolves.toBeDefined();
      const published = (await (await fetch(`${second.url}/.well-known/jwks.json`)).json()) as {
        keys: { d?: string }[];
      };
      expect(published.keys).toHaveLength(2);
      expect(published.keys.every((k) => k.d === undefined)).toBe(true);
    } finally {
      await second.close();
    }
  });
});
