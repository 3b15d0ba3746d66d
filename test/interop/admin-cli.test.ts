import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { callJson } from "../support/connect-json.js";
import { testAdminToken } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";
import { startWebhookReceiver } from "../support/webhook-receiver.js";

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer({ ADMIN_TOKEN: testAdminToken });
});
afterAll(async () => {
  await server?.close();
});

/** Runs `npm run admin -- ...` the way an operator would, without blocking the event loop. */
async function admin(args: string[], token = testAdminToken) {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/admin.ts", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      OTP_URL: server.url,
      ADMIN_TOKEN: token,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = await once(child, "exit");
  return { code: code as number, stdout, stderr };
}

describe("npm run admin", () => {
  it("creates a tenant and a key that works, lists and revokes it", async () => {
    const tenant = await admin(["tenants", "create", "Acme"]);
    expect(tenant.stderr).toBe("");
    expect(tenant.code).toBe(0);
    const tenantId = JSON.parse(tenant.stdout).tenant.id as string;
    const key = await admin([
      "keys",
      "create",
      tenantId,
      "--scopes",
      "generate,verify",
      "--name",
      "backend",
    ]);
    const created = JSON.parse(key.stdout) as { secret: string; key: { id: string } };
    expect(created.secret).toMatch(/^otp_sk_/);
    const auth = { authorization: `Bearer ${created.secret}` };
    expect((await callJson(server.url, "otp.v1.OtpService/Generate", {}, auth)).status).toBe(200);
    const listed = await admin(["keys", "list", tenantId]);
    expect(listed.stdout).toContain(created.key.id);
    expect(listed.stdout).not.toContain(created.secret);
    expect((await admin(["keys", "revoke", created.key.id])).code).toBe(0);
    expect((await callJson(server.url, "otp.v1.OtpService/Generate", {}, auth)).body.code).toBe(
      "unauthenticated",
    );
    const usage = await admin(["usage", tenantId, "--days", "1"]);
    // The call with the revoked key was refused before it could count.
    expect(JSON.parse(usage.stdout).days[0].counters["rpc:Generate"]).toBe("1");
  });

  it("fails with a clear message and a non-zero exit without the right credential", async () => {
    const refused = await admin(["tenants", "list"], "wrong-token-wrong-token-wrong-token!!");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("Unauthenticated");
    const bad = await admin(["keys", "create", "ten_x", "--scopes", "everything"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown scope");
  });

  it("renames, suspends, resumes and deletes a tenant, expires and deletes keys, and lists and exports the audit trail", async () => {
    const json = async (args: string[]) => {
      const res = await admin(args);
      expect([res.code, res.stderr]).toEqual([0, ""]);
      return JSON.parse(res.stdout);
    };
    const tenantId = (await json(["tenants", "create", "Lifecycle"])).tenant.id as string;
    expect((await json(["tenants", "rename", tenantId, "Renamed"])).tenant.name).toBe("Renamed");
    const suspended = await json(["tenants", "suspend", tenantId, "--reason", "unpaid"]);
    expect(suspended.tenant.suspended).toBe(true);
    expect((await json(["tenants", "resume", tenantId])).tenant.suspended).toBeUndefined();
    const expiring = await json([
      "keys",
      "create",
      tenantId,
      "--scopes",
      "generate",
      "--expires",
      "2d",
    ]);
    const expiresAt = Date.parse(expiring.key.expiresAt as string);
    expect(Math.abs(expiresAt - (Date.now() + 2 * 86_400_000))).toBeLessThan(60_000);
    const deleted = await json(["keys", "delete", expiring.key.id]);
    expect(deleted.key.revokedAt).toBeTypeOf("string");
    const other = await json(["keys", "create", tenantId, "--scopes", "verify"]);
    const gone = await json(["tenants", "delete", tenantId]);
    expect(gone.deletedKeyIds).toEqual([other.key.id]);

    const listed = await json(["audit", "list", "--tenant", tenantId, "--page-size", "3"]);
    expect(listed.events.map((e: { action: string }) => e.action)).toEqual([
      "tenant.deleted",
      "key.deleted",
      "key.created",
    ]);
    expect(listed.nextPageToken).toBeTypeOf("string");
    const next = await json([
      "audit",
      "list",
      "--tenant",
      tenantId,
      "--page-token",
      listed.nextPageToken,
      "--action",
      "tenant.",
    ]);
    expect(next.events.map((e: { action: string }) => e.action)).toEqual([
      "tenant.resumed",
      "tenant.suspended",
      "tenant.renamed",
      "tenant.created",
    ]);
    const exported = await admin(["audit", "export", "--tenant", tenantId, "--since", "1h"]);
    expect(exported.code).toBe(0);
    const lines = exported.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((e) => e.action)).toEqual([
      "tenant.created",
      "tenant.renamed",
      "tenant.suspended",
      "tenant.resumed",
      "key.created",
      "key.deleted",
      "key.created",
      "key.deleted",
      "tenant.deleted",
    ]);
    expect(lines[2]).toMatchObject({
      actorKind: "AUDIT_ACTOR_KIND_OPERATOR",
      actorId: "admin",
      outcome: "AUDIT_OUTCOME_SUCCESS",
      sourceAddress: "127.0.0.0/24",
      details: { reason: "unpaid" },
    });
    expect(lines[2].requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("creates, tests, rotates, lists and deletes a webhook endpoint, and audits each change", async () => {
    const receiver = await startWebhookReceiver();
    try {
      const tenant = await admin(["tenants", "create", "Hooked"]);
      const tenantId = JSON.parse(tenant.stdout).tenant.id as string;
      const created = await admin([
        "webhooks",
        "create",
        tenantId,
        receiver.url,
        "--types",
        "challenge.verified,webhook.test",
      ]);
      expect(created.stderr).toBe("");
      const made = JSON.parse(created.stdout) as { secret: string; endpoint: { id: string } };
      expect(made.secret).toMatch(/^whsec_/);
      const rotated = JSON.parse(
        (await admin(["webhooks", "rotate", made.endpoint.id, "--overlap", "1h"])).stdout,
      ) as { secret: string; endpoint: { secrets: unknown[] } };
      expect(rotated.endpoint.secrets).toHaveLength(2);
      // Either secret verifies while the overlap lasts.
      receiver.secrets = [rotated.secret];
      const sent = JSON.parse((await admin(["webhooks", "test", made.endpoint.id])).stdout);
      await expect.poll(() => receiver.accepted.get(sent.messageId), { timeout: 5000 }).toBe(1);
      const attempts = await admin(["webhooks", "attempts", made.endpoint.id]);
      expect(JSON.parse(attempts.stdout).attempts[0]).toMatchObject({
        messageId: sent.messageId,
        httpStatus: 200,
        outcome: "delivered",
      });
      const listed = await admin(["webhooks", "list", tenantId]);
      expect(listed.stdout).toContain(made.endpoint.id);
      expect(listed.stdout).not.toContain(made.secret.slice(6));
      expect(listed.stdout).not.toContain(rotated.secret.slice(6));
      const bad = await admin(["webhooks", "create", tenantId, "ftp://x.example.com/"]);
      expect([bad.code, bad.stderr.includes("InvalidArgument")]).toEqual([2, true]);
      expect((await admin(["webhooks", "delete", made.endpoint.id])).code).toBe(0);
      const trail = await admin(["audit", "list", "--tenant", tenantId, "--action", "webhook."]);
      expect(
        (JSON.parse(trail.stdout).events as { action: string }[]).map((e) => e.action),
      ).toEqual([
        "webhook.deleted",
        "webhook.test_sent",
        "webhook.secret_rotated",
        "webhook.created",
      ]);
    } finally {
      await receiver.close();
    }
  });
});
