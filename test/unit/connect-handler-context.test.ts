import { Code, ConnectError, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OtpService } from "../../gen/otp/v1/otp_pb.js";
import {
  type AbortControllerCount,
  countAbortControllers,
  RealAbortController,
} from "../support/abort-controllers.js";

// patches/@connectrpc+connect+2.1.2.patch: a handler context makes its signal
// (and the deadline timer and links behind it) when the signal is first read.
// These are the promises Connect's own contexts keep, checked on the patched
// one; docs/hot-path.md says why the patch exists.

let count: AbortControllerCount;
beforeEach(() => {
  count = countAbortControllers();
});
afterEach(() => {
  count.restore();
  vi.useRealTimers();
});

function context(init: { timeoutMs?: number; requestSignal?: AbortSignal } = {}) {
  const method = OtpService.method.generate;
  return createHandlerContext({
    service: OtpService,
    method,
    protocolName: "connect",
    requestMethod: "POST",
    url: "http://localhost/otp.v1.OtpService/Generate",
    requestSignal: init.requestSignal ?? new RealAbortController().signal,
    timeoutMs: init.timeoutMs,
  });
}

describe("a call's signal, made when first read", () => {
  it("is not made for a call that never reads it", () => {
    const ctx = context({ timeoutMs: 5_000 });
    ctx.responseHeader.set("x-a", "1");
    ctx.abort();
    expect(count.made()).toBe(0);
  });

  it("is live during the call and aborted with an AbortError when the call ends", () => {
    const ctx = context();
    const seen = ctx.signal;
    expect(seen.aborted).toBe(false);
    expect(ctx.signal).toBe(seen);
    ctx.abort();
    expect(seen.aborted).toBe(true);
    expect((seen.reason as Error).name).toBe("AbortError");
  });

  it("read first after the call ended, is already aborted with the end's reason", () => {
    const ctx = context();
    const failure = new ConnectError("no", Code.Internal);
    ctx.abort(failure);
    ctx.abort(new Error("a later end changes nothing"));
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason).toBe(failure);
  });

  it("aborts with DeadlineExceeded at the deadline, whenever it is first read", () => {
    vi.useFakeTimers();
    const early = context({ timeoutMs: 100 });
    const late = context({ timeoutMs: 100 });
    const readEarly = early.signal;
    vi.advanceTimersByTime(99);
    expect(readEarly.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(readEarly.aborted).toBe(true);
    expect(ConnectError.from(readEarly.reason).code).toBe(Code.DeadlineExceeded);
    expect(late.signal.aborted).toBe(true);
    expect(ConnectError.from(late.signal.reason).code).toBe(Code.DeadlineExceeded);
  });

  it("follows the request's signal, aborted before or after it is read", () => {
    const before = new RealAbortController();
    const after = new RealAbortController();
    const readAfterAbort = context({ requestSignal: before.signal });
    const readBeforeAbort = context({ requestSignal: after.signal });
    const live = readBeforeAbort.signal;
    before.abort(new ConnectError("gone", Code.Canceled));
    after.abort(new ConnectError("gone", Code.Canceled));
    expect(readAfterAbort.signal.aborted).toBe(true);
    expect(live.aborted).toBe(true);
    expect(ConnectError.from(live.reason).code).toBe(Code.Canceled);
  });

  it("is carried by a copy of the context, and each context has its own", () => {
    const a = context();
    const b = context();
    const copy: HandlerContext = { ...a };
    expect(copy.signal).toBe(a.signal);
    expect(b.signal).not.toBe(a.signal);
    a.abort();
    expect(copy.signal.aborted).toBe(true);
    expect(b.signal.aborted).toBe(false);
  });
});
