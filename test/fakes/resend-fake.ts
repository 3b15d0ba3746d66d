import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  delay,
  dropConnection,
  FailureQueue,
  listenFake,
  readText,
  sendJson,
} from "./http-fake.js";

/** A failure the fake answers `POST /emails` with. */
export type ResendFailure =
  | { kind: "validation_error" }
  | { kind: "rate_limit"; retryAfterSeconds: number }
  | { kind: "daily_quota" }
  | { kind: "server_error" }
  | { kind: "drop" }
  | { kind: "slow"; ms: number };

/** One email the fake accepted. */
export interface ResendEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string | undefined;
  html: string | undefined;
  idempotencyKey: string | undefined;
}

/** A local server speaking Resend's API, for the SDK's `baseUrl`. */
export interface ResendFake {
  baseUrl: string;
  apiKey: string;
  /** Emails accepted, in order; an idempotent replay adds none. */
  emails: ResendEmail[];
  /** Every `POST /emails` received, failed ones included. */
  requests: number;
  fail(failure: ResendFailure, times?: number): void;
  /** Forgets queued failures, emails and idempotency keys, between tests. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts a {@link ResendFake} on 127.0.0.1. */
export async function startResendFake(apiKey = "re_test_123456789"): Promise<ResendFake> {
  const emails: ResendEmail[] = [];
  const byKey = new Map<string, string>();
  const failures = new FailureQueue<ResendFailure>();
  let requests = 0;

  const error = (
    res: ServerResponse,
    statusCode: number,
    name: string,
    message: string,
    headers: Record<string, string> = {},
  ) => sendJson(res, statusCode, { statusCode, name, message }, headers);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readText(req);
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://x").pathname !== "/emails") {
      return error(res, 404, "not_found", "The requested endpoint does not exist.");
    }
    requests += 1;
    if (req.headers.authorization === undefined) {
      return error(res, 401, "missing_api_key", "Missing API key in the authorization header.");
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return error(res, 403, "invalid_api_key", "API key is invalid");
    }
    const failure = failures.take("emails");
    switch (failure?.kind) {
      case undefined:
        break;
      case "validation_error":
        return error(res, 422, "validation_error", "Invalid `to` field.");
      case "rate_limit":
        return error(res, 429, "rate_limit_exceeded", "Too many requests.", {
          "retry-after": String(failure.retryAfterSeconds),
        });
      case "daily_quota":
        return error(res, 429, "daily_quota_exceeded", "You have reached your daily email quota.");
      case "server_error":
        return error(res, 500, "internal_server_error", "An unexpected error occurred.");
      case "drop":
        return dropConnection(req);
      case "slow":
        await delay(failure.ms, res);
        if (res.destroyed) return;
        break;
    }
    const body = JSON.parse(raw) as Record<string, unknown>;
    const key = req.headers["idempotency-key"];
    const idempotencyKey = typeof key === "string" ? key : undefined;
    const seen = idempotencyKey === undefined ? undefined : byKey.get(idempotencyKey);
    if (seen !== undefined) return sendJson(res, 200, { id: seen });
    if (
      typeof body.from !== "string" ||
      body.to === undefined ||
      typeof body.subject !== "string"
    ) {
      return error(res, 422, "missing_required_field", "Missing `from`, `to` or `subject`.");
    }
    const email: ResendEmail = {
      id: randomUUID(),
      from: body.from,
      to: Array.isArray(body.to) ? (body.to as string[]) : [String(body.to)],
      subject: body.subject,
      text: typeof body.text === "string" ? body.text : undefined,
      html: typeof body.html === "string" ? body.html : undefined,
      idempotencyKey,
    };
    emails.push(email);
    if (idempotencyKey !== undefined) byKey.set(idempotencyKey, email.id);
    sendJson(res, 200, { id: email.id });
  };

  const fake = await listenFake(handle);
  return {
    baseUrl: fake.url,
    apiKey,
    emails,
    get requests() {
      return requests;
    },
    fail: (failure, times = 1) => failures.add("emails", failure, times),
    reset() {
      failures.clear();
      emails.length = 0;
      byKey.clear();
      requests = 0;
    },
    close: () => fake.close(),
  };
}
