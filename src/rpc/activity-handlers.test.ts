import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../gen/otp/v1/admin_pb.js";
import { createActivityFeed, createLocalActivityBus } from "../activity/activity-feed.js";
import { createActivityService } from "../activity/activity-service.js";
import { memoryStoreNodes } from "../activity/system-health.js";
import { createDispatcher } from "../delivery/dispatcher.js";
import { createMemoryActivityStore } from "../store/memory/activity.js";
import { createMemoryStore } from "../store/memory/memory-store.js";
import { createLogger } from "../telemetry/logger.js";
import { createActivityHandlers } from "./activity-handlers.js";
import { createErrorInterceptor } from "./interceptors/error-interceptor.js";

function adminClient(maxWatchers: number) {
  const handlers = createActivityHandlers({
    service: createActivityService(createMemoryActivityStore(), Date.now),
    feed: createActivityFeed({ bus: createLocalActivityBus() }),
    nodes: memoryStoreNodes(),
    dispatcher: createDispatcher({ channels: [], store: createMemoryStore() }),
    system: { version: "1", startedAtMs: Date.now(), workers: 1, replica: "1@h" },
    now: Date.now,
    maxWatchers,
  });
  const transport = createRouterTransport(({ service }) => service(AdminService, handlers), {
    router: { interceptors: [createErrorInterceptor(createLogger("silent"))] },
  });
  return createClient(AdminService, transport);
}

describe("WatchActivity", () => {
  it("refuses a stream beyond the replica's most open ones, and takes one again once another ends", async () => {
    const client = adminClient(1);
    const abort = new AbortController();
    const first = client.watchActivity({}, { signal: abort.signal })[Symbol.asyncIterator]();
    await first.next();
    let refused: ConnectError | undefined;
    try {
      for await (const _ of client.watchActivity({})) break;
    } catch (err) {
      refused = ConnectError.from(err);
    }
    expect(refused?.code).toBe(Code.ResourceExhausted);
    expect(refused?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("ACTIVITY_WATCHERS_EXHAUSTED");
    abort.abort();
    await first.next().catch(() => undefined);
    const again = client.watchActivity({})[Symbol.asyncIterator]();
    expect((await again.next()).done).toBe(false);
    await again.return?.();
  });
});
