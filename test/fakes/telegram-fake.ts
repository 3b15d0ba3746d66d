import { EventEmitter, once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Update, UserFromGetMe } from "grammy/types";
import {
  delay,
  dropConnection,
  FailureQueue,
  listenFake,
  readText,
  sendJson,
} from "./http-fake.js";

/** A failure the fake answers a Bot API call with. */
export type TelegramFailure =
  | { kind: "rate_limit"; retryAfter: number }
  | { kind: "server_error" }
  /** 502 with an HTML body, as a proxy in front of the Bot API would answer. */
  | { kind: "bad_gateway" }
  | { kind: "chat_not_found" }
  | { kind: "blocked" }
  /** The connection is closed without an answer. */
  | { kind: "drop" }
  /** The call is answered normally, but only after `ms`. */
  | { kind: "slow"; ms: number };

/** One Bot API call the fake received. */
export interface TelegramCall {
  method: string;
  body: Record<string, unknown>;
}

/** A local server speaking the Telegram Bot API, for grammy's `apiRoot`. */
export interface TelegramFake {
  /** The `apiRoot` to give grammy. */
  apiRoot: string;
  token: string;
  /** The bot's own user, as `getMe` answers it. */
  botInfo: UserFromGetMe;
  calls: TelegramCall[];
  /** The calls of one method. */
  callsTo(method: string): TelegramCall[];
  /** Resolves once `method` has been called `count` times in all. */
  waitForCalls(method: string, count: number): Promise<TelegramCall[]>;
  /** Answers the next `times` calls of `method` with `failure`. */
  fail(method: string, failure: TelegramFailure, times?: number): void;
  /** Makes "@username" a known public chat with this id. */
  addUsername(username: string, chatId: number): void;
  /** Message ids sent to a chat and not deleted yet. */
  liveMessages(chatId: string | number): number[];
  /** Queues an update for `getUpdates` (long polling); its `update_id` is filled in. */
  pushUpdate(update: Omit<Update, "update_id">): Update;
  /** What `setWebhook` last set. */
  webhook: { url: string; secretToken: string | undefined } | undefined;
  /** Forgets queued failures and recorded calls, between tests. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts a {@link TelegramFake} on 127.0.0.1. */
export async function startTelegramFake(token = "123456:TEST-token_abc"): Promise<TelegramFake> {
  const calls: TelegramCall[] = [];
  const events = new EventEmitter();
  const failures = new FailureQueue<TelegramFailure>();
  const usernames = new Map<string, number>();
  const live = new Map<string, Set<number>>();
  const updates: Update[] = [];
  let nextUpdateId = 1;
  let nextMessageId = 100;
  let webhook: TelegramFake["webhook"];
  const botInfo: UserFromGetMe = {
    id: 424242,
    is_bot: true,
    first_name: "OTP Test",
    username: "otp_test_bot",
    can_join_groups: false,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };

  const fail = (res: ServerResponse, status: number, description: string, extra = {}) =>
    sendJson(res, status, { ok: false, error_code: status, description, ...extra });
  const ok = (res: ServerResponse, result: unknown) => sendJson(res, 200, { ok: true, result });

  const resolveChat = (chatId: unknown): number | undefined => {
    if (typeof chatId === "number") return chatId;
    if (typeof chatId !== "string") return undefined;
    if (/^-?\d+$/.test(chatId)) return Number(chatId);
    return usernames.get(chatId.toLowerCase());
  };

  const answerGetUpdates = async (body: Record<string, unknown>, res: ServerResponse) => {
    const offset = typeof body.offset === "number" ? body.offset : 0;
    while (updates.length > 0 && (updates[0]?.update_id ?? 0) < offset) updates.shift();
    const timeoutSeconds = typeof body.timeout === "number" ? body.timeout : 0;
    if (updates.length === 0 && timeoutSeconds > 0) {
      // Hold the request until an update arrives, the timeout passes or the client goes away.
      const controller = new AbortController();
      res.once("close", () => controller.abort());
      const timer = setTimeout(() => controller.abort(), timeoutSeconds * 1000);
      try {
        await once(events, "update", { signal: controller.signal });
      } catch {
        // Timed out or aborted: answer with what there is.
      } finally {
        clearTimeout(timer);
      }
    }
    if (res.writableEnded || res.destroyed) return;
    const limit = typeof body.limit === "number" ? body.limit : 100;
    ok(res, updates.filter((u) => u.update_id >= offset).slice(0, limit));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? "/", "http://x").pathname);
    const raw = await readText(req);
    if (match === null) return fail(res, 404, "Not Found");
    if (match[1] !== token) return fail(res, 401, "Unauthorized");
    const method = match[2] ?? "";
    let body: Record<string, unknown> = {};
    if (raw !== "") {
      body = (req.headers["content-type"] ?? "").includes("json")
        ? (JSON.parse(raw) as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(raw));
    }
    const call = { method, body };
    calls.push(call);
    events.emit("call", call);

    const failure = failures.take(method);
    switch (failure?.kind) {
      case undefined:
        break;
      case "rate_limit":
        return fail(res, 429, `Too Many Requests: retry after ${failure.retryAfter}`, {
          parameters: { retry_after: failure.retryAfter },
        });
      case "server_error":
        return fail(res, 500, "Internal Server Error");
      case "bad_gateway":
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html><body><h1>502 Bad Gateway</h1></body></html>");
        return;
      case "chat_not_found":
        return fail(res, 400, "Bad Request: chat not found");
      case "blocked":
        return fail(res, 403, "Forbidden: bot was blocked by the user");
      case "drop":
        return dropConnection(req);
      case "slow":
        await delay(failure.ms, res);
        if (res.destroyed) return;
        break;
    }

    switch (method) {
      case "getMe":
        return ok(res, botInfo);
      case "sendMessage": {
        const chatId = resolveChat(body.chat_id);
        if (chatId === undefined) return fail(res, 400, "Bad Request: chat not found");
        const messageId = nextMessageId++;
        const set = live.get(String(chatId)) ?? new Set<number>();
        set.add(messageId);
        live.set(String(chatId), set);
        return ok(res, {
          message_id: messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chatId, type: chatId < 0 ? "channel" : "private" },
          from: { id: botInfo.id, is_bot: true, first_name: botInfo.first_name },
          text: body.text,
        });
      }
      case "deleteMessage": {
        const chatId = resolveChat(body.chat_id);
        const set = live.get(String(chatId));
        const messageId = Number(body.message_id);
        if (set?.delete(messageId) !== true) {
          return fail(res, 400, "Bad Request: message to delete not found");
        }
        return ok(res, true);
      }
      case "getUpdates":
        return answerGetUpdates(body, res);
      case "deleteWebhook":
        webhook = undefined;
        return ok(res, true);
      case "setWebhook":
        webhook = {
          url: String(body.url),
          secretToken: body.secret_token === undefined ? undefined : String(body.secret_token),
        };
        return ok(res, true);
      default:
        return fail(res, 404, "Not Found: method not found");
    }
  };

  const fake = await listenFake(handle);
  return {
    apiRoot: fake.url,
    token,
    botInfo,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    async waitForCalls(method, count) {
      for (;;) {
        const found = calls.filter((c) => c.method === method);
        if (found.length >= count) return found;
        await once(events, "call");
      }
    },
    fail: (method, failure, times = 1) => failures.add(method, failure, times),
    addUsername(username, chatId) {
      usernames.set(username.toLowerCase(), chatId);
    },
    liveMessages: (chatId) => [...(live.get(String(chatId)) ?? [])],
    pushUpdate(update) {
      const full = { ...update, update_id: nextUpdateId++ } as Update;
      updates.push(full);
      events.emit("update");
      return full;
    },
    get webhook() {
      return webhook;
    },
    reset() {
      failures.clear();
      calls.length = 0;
    },
    close: () => fake.close(),
  };
}
