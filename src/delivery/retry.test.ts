import { describe, expect, it } from "vitest";
import { DeliveryError } from "./delivery-error.js";
import { type RetryPolicy, withRetry } from "./retry.js";

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 25, maxTotalMs: 2000 };
const retryable = () => new DeliveryError("sms", "PROVIDER_UNAVAILABLE", { retryable: true });
const permanent = () => new DeliveryError("sms", "RECIPIENT_INVALID", { retryable: false });

/** An attempt that fails with the given errors, in order, then succeeds. */
function failing(errors: DeliveryError[]) {
  let calls = 0;
  const run = async () => {
    const err = errors[calls];
    calls += 1;
    if (err !== undefined) throw err;
    return "ok";
  };
  return { run, calls: () => calls };
}

async function rejection(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DeliveryError) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("withRetry", () => {
  it("returns the first success without waiting", async () => {
    const attempt = failing([]);
    await expect(withRetry(attempt.run, policy, { channel: "sms" })).resolves.toBe("ok");
    expect(attempt.calls()).toBe(1);
  });

  it("retries retryable errors until one attempt succeeds", async () => {
    const attempt = failing([retryable(), retryable()]);
    await expect(withRetry(attempt.run, policy, { channel: "sms", random: () => 0 })).resolves.toBe(
      "ok",
    );
    expect(attempt.calls()).toBe(3);
  });

  it("fails at once on a permanent error", async () => {
    const attempt = failing([permanent(), permanent()]);
    const err = await rejection(withRetry(attempt.run, policy, { channel: "sms" }));
    expect(err.reason).toBe("RECIPIENT_INVALID");
    expect(err.attempts).toBe(1);
    expect(attempt.calls()).toBe(1);
  });

  it("gives up with the last error after the most attempts", async () => {
    const attempt = failing(Array.from({ length: 10 }, retryable));
    const err = await rejection(
      withRetry(attempt.run, policy, { channel: "sms", random: () => 0 }),
    );
    expect(err.reason).toBe("PROVIDER_UNAVAILABLE");
    expect(err.attempts).toBe(4);
    expect(attempt.calls()).toBe(4);
  });

  it("draws each wait from a window that doubles up to the cap (full jitter)", async () => {
    const windows: number[] = [];
    const delays: number[] = [];
    const attempt = failing([retryable(), retryable(), retryable()]);
    await withRetry(attempt.run, policy, {
      channel: "sms",
      random: (max) => {
        windows.push(max - 1);
        return max - 1;
      },
      onRetry: (_err, _attempt, delayMs) => delays.push(delayMs),
    });
    expect(windows).toEqual([10, 20, 25]);
    expect(delays).toEqual([10, 20, 25]);
  });

  it("waits at least as long as the provider asks", async () => {
    const delays: number[] = [];
    const limited = new DeliveryError("sms", "PROVIDER_RATE_LIMITED", {
      retryable: true,
      retryAfterMs: 40,
    });
    const attempt = failing([limited]);
    const started = performance.now();
    await withRetry(attempt.run, policy, {
      channel: "sms",
      random: () => 0,
      onRetry: (_e, _a, delayMs) => delays.push(delayMs),
    });
    expect(delays).toEqual([40]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
  });

  it("gives up at once when the provider asks for a wait longer than the time left", async () => {
    const limited = new DeliveryError("sms", "PROVIDER_RATE_LIMITED", {
      retryable: true,
      retryAfterMs: 60_000,
    });
    const attempt = failing([limited]);
    const started = performance.now();
    const err = await rejection(withRetry(attempt.run, policy, { channel: "sms" }));
    expect(err.reason).toBe("PROVIDER_RATE_LIMITED");
    expect(attempt.calls()).toBe(1);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("aborts a hanging attempt when the total time is up", async () => {
    const started = performance.now();
    const err = await rejection(
      withRetry(
        ({ signal }) =>
          new Promise<never>((_, reject) => {
            signal.addEventListener("abort", () => reject(new Error("aborted")));
          }),
        { ...policy, maxTotalMs: 80 },
        { channel: "sms" },
      ),
    );
    expect(err.reason).toBe("PROVIDER_TIMEOUT");
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("turns an unclassified error into a permanent INTERNAL failure without its message", async () => {
    const err = await rejection(
      withRetry(
        async () => {
          throw new Error("request body was {code: 493027}");
        },
        policy,
        { channel: "email" },
      ),
    );
    expect(err.reason).toBe("INTERNAL");
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain("493027");
  });

  it("reports a canceled send when the caller aborts", async () => {
    const controller = new AbortController();
    const attempt = async () => {
      controller.abort();
      throw retryable();
    };
    const err = await rejection(
      withRetry(attempt, policy, { channel: "sms", signal: controller.signal }),
    );
    expect(err.reason).toBe("DELIVERY_CANCELED");
  });
});
