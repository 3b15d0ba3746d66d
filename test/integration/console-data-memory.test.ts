import {
  ActivityKind,
  ActivityMetric,
  ActivityResolution,
  ActivityWindow,
  Code,
  createAdminClient,
  createOtpClient,
  isOtpError,
  type WatchActivityResponse,
} from "@otp/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { testAdminToken } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";

// The in-memory store, one process: the console's data works there too,
// read through the SDK over gRPC.
let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer({ ADMIN_TOKEN: testAdminToken }, { activityFlushMs: 50 });
});
afterAll(async () => {
  await server?.close();
});

const admin = () =>
  createAdminClient({ baseUrl: server.url, protocol: "grpc", apiKey: testAdminToken });

async function reasonOf(p: Promise<unknown>): Promise<[Code | undefined, string | undefined]> {
  try {
    await p;
  } catch (err) {
    if (isOtpError(err)) return [err.code, err.reason];
    throw err;
  }
  return [undefined, undefined];
}

describe("console data on the in-memory store", () => {
  it("counts, streams and reports health through the SDK", async () => {
    const client = admin();
    const abort = new AbortController();
    const stream = client.watchActivity(
      { kinds: [ActivityKind.VERIFY], outcomes: ["verified"] },
      { signal: abort.signal, timeoutMs: 0 },
    );
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.event).toBeUndefined();

    const otp = createOtpClient({ baseUrl: server.url, protocol: "grpc" });
    const made = await otp.generate({});
    await otp.verify({ id: made.id, code: "000000" === made.code ? "111111" : "000000" });
    await otp.verify({ id: made.id, code: made.code });
    const next = (await it.next()).value as WatchActivityResponse;
    // The wrong code was filtered out: the first event is the verified one.
    expect(next.event?.kind).toBe(ActivityKind.VERIFY);
    expect(next.event?.outcome).toBe("verified");
    expect(next.event?.challengeId).toBe(made.id);
    abort.abort();

    await new Promise((r) => setTimeout(r, 150));
    const overview = await client.getOverview({ window: ActivityWindow.HOUR });
    expect(overview.generated).toBe(1n);
    expect(overview.verified).toBe(1n);
    expect(overview.conversion).toBe(1);
    expect(overview.verificationsByResult).toEqual({ verified: 1n, invalid_code: 1n });
    expect(overview.activeChallenges).toBe(0n);

    const series = await client.getTimeSeries({
      metric: ActivityMetric.VERIFICATIONS,
      window: ActivityWindow.DAY,
    });
    expect(series.resolution).toBe(ActivityResolution.HOUR);
    expect(series.points).toHaveLength(24);
    expect(series.points.at(-1)?.value).toBe(2);

    const health = await client.getSystemHealth({});
    expect(health.storeLayout).toBe("memory");
    expect(health.storeNodes).toMatchObject([{ name: "memory", reachable: true }]);
    expect(health.version).toBe("0.1.0");
  });

  it("refuses minute points over 30 days, an unknown metric and an unknown kind", async () => {
    const client = admin();
    expect(
      await reasonOf(
        client.getTimeSeries({
          metric: ActivityMetric.GENERATED,
          window: ActivityWindow.MONTH,
          resolution: ActivityResolution.MINUTE,
        }),
      ),
    ).toEqual([Code.InvalidArgument, "ACTIVITY_QUERY_INVALID"]);
    expect(await reasonOf(client.getTimeSeries({ window: ActivityWindow.HOUR }))).toEqual([
      Code.InvalidArgument,
      "ACTIVITY_QUERY_INVALID",
    ]);
    const watch = async () => {
      for await (const _ of client.watchActivity({ kinds: [99 as ActivityKind] })) break;
    };
    expect(await reasonOf(watch())).toEqual([Code.InvalidArgument, "ACTIVITY_QUERY_INVALID"]);
  });

  it("refuses the console's data without a credential, in development too", async () => {
    const anonymous = createAdminClient({ baseUrl: server.url, protocol: "connect" });
    // Anonymous development callers hold every scope but admin-read.
    expect(await reasonOf(anonymous.getOverview({}))).toEqual([
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    ]);
    expect(await reasonOf(anonymous.getSystemHealth({}))).toEqual([
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    ]);
  });
});
