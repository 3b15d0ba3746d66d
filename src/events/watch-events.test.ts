import { describe, expect, it } from "vitest";
import { OtpError } from "../core/otp-error.js";
import { createMemoryEventFeed } from "../store/memory/events.js";
import { newEvent } from "./event-types.js";
import { watchEvents } from "./watch-events.js";

const event = (
  tenantId: string,
  type: "challenge.created" | "challenge.verified" = "challenge.created",
) => newEvent(type, tenantId, Date.now(), { challenge_id: "c" });

describe("watchEvents", () => {
  it("yields the matching events of every batch, and announces a live watcher", async () => {
    const feed = createMemoryEventFeed();
    const abort = new AbortController();
    const watch = watchEvents(
      feed,
      { tenantId: "a", types: ["challenge.verified"] },
      { signal: abort.signal },
    );
    const first = watch.next();
    await new Promise((r) => setTimeout(r, 10));
    expect(await feed.watched()).toBe(true);
    await feed.publish([
      event("b", "challenge.verified"),
      event("a"),
      event("a", "challenge.verified"),
    ]);
    const got = await first;
    expect([got.value?.tenantId, got.value?.type]).toEqual(["a", "challenge.verified"]);
    abort.abort();
    expect((await watch.next()).done).toBe(true);
  });

  it("ends a reader that falls too far behind with WATCH_LAGGING instead of holding more", async () => {
    const feed = createMemoryEventFeed();
    const watch = watchEvents(
      feed,
      { tenantId: undefined, types: [] },
      {
        signal: new AbortController().signal,
        maxQueued: 3,
      },
    );
    const first = watch.next().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    await feed.publish([event("a"), event("a"), event("a"), event("a"), event("a")]);
    // Cut off at once: what was queued is dropped with the watch.
    const err = await first;
    expect(err).toBeInstanceOf(OtpError);
    expect((err as OtpError).reason).toBe("WATCH_LAGGING");
  });

  it("ends with SHUTTING_DOWN when the server stops", async () => {
    const feed = createMemoryEventFeed();
    const shutdown = new AbortController();
    const watch = watchEvents(
      feed,
      { tenantId: undefined, types: [] },
      {
        signal: new AbortController().signal,
        shutdown: shutdown.signal,
      },
    );
    const next = watch.next().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    shutdown.abort();
    expect(((await next) as OtpError).reason).toBe("SHUTTING_DOWN");
  });
});
