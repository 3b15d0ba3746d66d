// The console's only way to the service: its own RPCs, over Connect, through
// the browser SDK's transport and the client generated from the contract.
// The session cookie goes with every call (same origin); the CSRF token is
// added as a header.
import type {
  DescMethod,
  DescMethodServerStreaming,
  DescMethodUnary,
  JsonObject,
  JsonValue,
} from "@bufbuild/protobuf";
import { fromJson, toJson } from "@bufbuild/protobuf";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
} from "@connectrpc/connect";
import { AdminService } from "../gen/otp/v1/admin_pb.js";
import { createTransport, toOtpError } from "../sdk/src/browser.js";
import { currentCsrfToken } from "./session.js";

const withCsrf: Interceptor = (next) => (req) => {
  req.header.set("x-csrf-token", currentCsrfToken());
  return next(req);
};

const base = {
  baseUrl: window.location.origin,
  protocol: "connect" as const,
  interceptors: [withCsrf],
};

/** Unary calls: the SDK's deadline and retries of read-only calls. */
export const transport = createTransport(base);
/** Server streams (the live feeds) have no deadline: they run until the page leaves. */
export const streamTransport = createTransport({ ...base, timeoutMs: 0, retry: false });

/** The generated AdminService client. */
export const admin: Client<typeof AdminService> = createClient(AdminService, transport);

/**
 * An AdminService method by its name in the generated code (`getOverview`),
 * or undefined while the contract lacks it. Pages whose RPCs are not there
 * yet stay hidden instead of showing made-up figures.
 */
export function adminMethod(name: string): DescMethod | undefined {
  return (AdminService.method as Record<string, DescMethod | undefined>)[name];
}

/** Whether every named AdminService method exists. */
export function hasMethods(...names: string[]): boolean {
  return names.every((name) => adminMethod(name) !== undefined);
}

/**
 * Calls a unary AdminService method by name with a JSON request and returns
 * the JSON response (proto3 JSON names), for pages written against RPCs
 * that another part of the contract adds.
 */
export async function callByName(name: string, request: JsonObject): Promise<JsonValue> {
  const method = adminMethod(name);
  if (method === undefined || method.methodKind !== "unary") {
    throw new ConnectError(`AdminService.${name} is not in this build`, Code.Unimplemented);
  }
  const res = await transport.unary(
    method as DescMethodUnary,
    undefined,
    undefined,
    undefined,
    fromJson(method.input, request, { ignoreUnknownFields: true }),
  );
  return toJson(method.output, res.message, { alwaysEmitImplicit: true });
}

/**
 * Opens a server-streaming AdminService method by name and yields each
 * message as JSON until `signal` aborts.
 */
export async function* streamByName(
  name: string,
  request: JsonObject,
  signal: AbortSignal,
): AsyncIterable<JsonValue> {
  const method = adminMethod(name);
  if (method === undefined || method.methodKind !== "server_streaming") {
    throw new ConnectError(`AdminService.${name} is not in this build`, Code.Unimplemented);
  }
  const input = fromJson(method.input, request, { ignoreUnknownFields: true });
  const res = await streamTransport.stream(
    method as DescMethodServerStreaming,
    signal,
    undefined,
    undefined,
    (async function* () {
      yield input;
    })(),
  );
  for await (const message of res.message)
    yield toJson(method.output, message, { alwaysEmitImplicit: true });
}

/** A short, readable account of a failed call: its reason when the service gave one. */
export function describeError(err: unknown): string {
  const error = toOtpError(err);
  return error.reason === undefined ? error.rawMessage : `${error.rawMessage} (${error.reason})`;
}

/** Whether a failed call means the session is gone, so the page must sign in again. */
export function isSignedOut(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Unauthenticated;
}
