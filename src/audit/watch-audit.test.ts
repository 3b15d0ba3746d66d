import { describe, expect, it } from "vitest";
import { isOtpError } from "../core/otp-error.js";
import { createMemoryAuditTrail } from "../store/memory/audit-trail.js";
import type { AuditInput } from "./audit-trail.js";
import { watchAudit } from "./watch-audit.js";

const entry = (target: string): AuditInput => ({
  actor: { kind: "operator", id: "admin" },
  tenantId: "ten_a",
  action: "tenant.created",
  target,
  outcome: "success",
  requestId: "",
  sourceAddress: "unknown",
  details: {},
});

describe("watchAudit", () => {
  it("yields entries appended after it started, and ends quietly when the caller leaves", async () => {
    const trail = createMemoryAuditTrail({ retentionMs: 60_000, maxEntries: 100 });
    const caller = new AbortController();
    const watching = watchAudit(trail, {}, { signal: caller.signal });
    const first = watching.next();
    await new Promise((r) => setTimeout(r, 10));
    await trail.append(entry("one"));
    expect((await first).value?.target).toBe("one");
    const second = watching.next();
    caller.abort();
    expect((await second).done).toBe(true);
  });

  it("ends with SHUTTING_DOWN when the server stops", async () => {
    const trail = createMemoryAuditTrail({ retentionMs: 60_000, maxEntries: 100 });
    const shutdown = new AbortController();
    const watching = watchAudit(
      trail,
      {},
      { signal: new AbortController().signal, shutdown: shutdown.signal },
    );
    const next = watching.next();
    await new Promise((r) => setTimeout(r, 10));
    shutdown.abort();
    const err = await next.catch((e: unknown) => e);
    expect(isOtpError(err, "SHUTTING_DOWN")).toBe(true);
  });

  it("cuts off a reader that falls too far behind with WATCH_LAGGING, after what it held", async () => {
    const trail = createMemoryAuditTrail({ retentionMs: 60_000, maxEntries: 100 });
    const watching = watchAudit(trail, {}, { signal: new AbortController().signal, maxQueued: 2 });
    const first = watching.next();
    await new Promise((r) => setTimeout(r, 10));
    for (const target of ["a", "b", "c", "d"]) await trail.append(entry(target));
    expect((await first).value?.target).toBe("a");
    expect((await watching.next()).value?.target).toBe("b");
    expect((await watching.next()).value?.target).toBe("c");
    const err = await watching.next().catch((e: unknown) => e);
    expect(isOtpError(err, "WATCH_LAGGING")).toBe(true);
  });
});
