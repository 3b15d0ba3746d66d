import { createHash, createHmac, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { listenFake, readText, sendJson } from "./http-fake.js";

/** One verification message the fake accepted. */
export interface GatewaySend {
  requestId: string;
  phoneNumber: string;
  code: string;
  ttl: number | undefined;
  callbackUrl: string | undefined;
  payload: string | undefined;
  /** True when the send named the request id of an earlier checkSendAbility. */
  checked: boolean;
}

/** Options of {@link TelegramGatewayFake.postReport}. */
export interface GatewayReportOptions {
  /** The report's `verification_status.status`, for example "code_valid". */
  verificationStatus?: string;
  /** Signs with this token instead of the fake's own. */
  signWith?: string;
  /** The timestamp to sign and send, in Unix seconds; now by default. */
  timestamp?: number;
  /** Changes the body after signing. */
  tamper?: boolean;
  /** Posts to this origin, keeping the callback URL's path, as a proxy in front of the service would. */
  postTo?: string;
}

/** A local server speaking Telegram's Gateway API, for the channel's fetch calls. */
export interface TelegramGatewayFake {
  baseUrl: string;
  token: string;
  /** Numbers (E.164) with a Telegram account the Gateway can reach. */
  reachable: Set<string>;
  /** checkSendAbility calls, by phone number, reachable or not. */
  checks: string[];
  sends: GatewaySend[];
  /** Request ids revoked, in order. */
  revoked: string[];
  /** Requests refused for a wrong or missing bearer token. */
  unauthorized: number;
  /**
   * Posts a delivery report for `send` to its callback URL, signed the way
   * Telegram signs it (hex HMAC-SHA256 of `timestamp + "\n" + body`, keyed
   * by SHA-256 of the token). Resolves with the HTTP status.
   */
  postReport(
    send: GatewaySend,
    deliveryStatus: string,
    options?: GatewayReportOptions,
  ): Promise<number>;
  reset(): void;
  close(): Promise<void>;
}

/**
 * The signature of a delivery report, written here from Telegram's
 * documentation rather than taken from the service, so the tests check the
 * service against an independent signer.
 */
export function signGatewayReport(token: string, timestamp: string, body: string): string {
  const key = createHash("sha256").update(token).digest();
  return createHmac("sha256", key).update(`${timestamp}\n${body}`).digest("hex");
}

/** Starts a {@link TelegramGatewayFake} on 127.0.0.1. */
export async function startTelegramGatewayFake(
  token = randomBytes(24).toString("hex"),
): Promise<TelegramGatewayFake> {
  const reachable = new Set<string>();
  const checks: string[] = [];
  const sends: GatewaySend[] = [];
  const revoked: string[] = [];
  const checkedIds = new Map<string, string>();
  let unauthorized = 0;

  const fail = (res: ServerResponse, status: number, error: string) =>
    sendJson(res, status, { ok: false, error });
  const status = (send: GatewaySend, extra: object = {}) => ({
    request_id: send.requestId,
    phone_number: send.phoneNumber,
    request_cost: 0.01,
    remaining_balance: 99.99,
    ...(send.payload === undefined ? {} : { payload: send.payload }),
    ...extra,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readText(req);
    const method = new URL(req.url ?? "/", "http://x").pathname.slice(1);
    if (req.headers.authorization !== `Bearer ${token}`) {
      unauthorized += 1;
      return fail(res, 401, "ACCESS_TOKEN_INVALID");
    }
    const params = (raw === "" ? {} : JSON.parse(raw)) as Record<string, unknown>;
    const phone = String(params.phone_number ?? "");
    switch (method) {
      case "checkSendAbility": {
        checks.push(phone);
        if (!/^\+?\d{7,15}$/.test(phone)) return fail(res, 400, "PHONE_NUMBER_INVALID");
        if (!reachable.has(phone)) return fail(res, 400, "PHONE_NUMBER_NOT_FOUND");
        const requestId = randomBytes(8).toString("hex");
        checkedIds.set(requestId, phone);
        return sendJson(res, 200, {
          ok: true,
          result: { request_id: requestId, phone_number: phone, request_cost: 0.01 },
        });
      }
      case "sendVerificationMessage": {
        if (!reachable.has(phone)) return fail(res, 400, "PHONE_NUMBER_NOT_FOUND");
        const given = typeof params.request_id === "string" ? params.request_id : undefined;
        if (given !== undefined && checkedIds.get(given) !== phone) {
          return fail(res, 400, "REQUEST_ID_INVALID");
        }
        const send: GatewaySend = {
          requestId: given ?? randomBytes(8).toString("hex"),
          phoneNumber: phone,
          code: String(params.code ?? ""),
          ttl: typeof params.ttl === "number" ? params.ttl : undefined,
          callbackUrl: typeof params.callback_url === "string" ? params.callback_url : undefined,
          payload: typeof params.payload === "string" ? params.payload : undefined,
          checked: given !== undefined,
        };
        sends.push(send);
        return sendJson(res, 200, {
          ok: true,
          result: status(send, { delivery_status: { status: "sent", updated_at: now() } }),
        });
      }
      case "revokeVerificationMessage": {
        const id = String(params.request_id ?? "");
        if (!sends.some((s) => s.requestId === id)) return fail(res, 400, "REQUEST_ID_INVALID");
        revoked.push(id);
        return sendJson(res, 200, { ok: true, result: true });
      }
      default:
        return fail(res, 404, "METHOD_NOT_FOUND");
    }
  };

  const fake = await listenFake(handle);
  return {
    baseUrl: fake.url,
    token,
    reachable,
    checks,
    sends,
    revoked,
    get unauthorized() {
      return unauthorized;
    },
    async postReport(send, deliveryStatus, options = {}) {
      if (send.callbackUrl === undefined) throw new Error("the send has no callback URL");
      const body = JSON.stringify(
        status(send, {
          delivery_status: { status: deliveryStatus, updated_at: now() },
          ...(options.verificationStatus === undefined
            ? {}
            : { verification_status: { status: options.verificationStatus, updated_at: now() } }),
        }),
      );
      const timestamp = String(options.timestamp ?? now());
      const signature = signGatewayReport(options.signWith ?? token, timestamp, body);
      const sent = options.tamper === true ? body.replace(deliveryStatus, "read") : body;
      const url = new URL(send.callbackUrl);
      const target =
        options.postTo === undefined
          ? url.toString()
          : `${options.postTo.replace(/\/+$/, "")}${url.pathname}${url.search}`;
      const response = await fetch(target, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-request-timestamp": timestamp,
          "x-request-signature": signature,
        },
        body: sent,
      });
      await response.arrayBuffer();
      return response.status;
    },
    reset() {
      reachable.clear();
      checks.length = 0;
      sends.length = 0;
      revoked.length = 0;
      checkedIds.clear();
      unauthorized = 0;
    },
    close: () => fake.close(),
  };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
