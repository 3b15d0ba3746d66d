import {
  create,
  type DescMessage,
  type MessageInitShape,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { HealthCheckRequestSchema } from "../gen/health/v1/health_pb.js";
import { AdminService, ApiKeyKind, Scope } from "../gen/otp/v1/admin_pb.js";
import {
  GenerateRequestSchema,
  OtpService,
  VerifyRequestSchema,
  VerifyResult,
} from "../gen/otp/v1/otp_pb.js";
import { testAdminToken } from "../test/support/secrets.js";
import type { LoadCall } from "./load.js";

/** The RPCs every configuration is measured on. */
export const rpcNames = ["Health", "Generate", "Verify"] as const;
export type RpcName = (typeof rpcNames)[number];

function encode<Desc extends DescMessage>(
  schema: Desc,
  init: MessageInitShape<Desc>,
): Pick<LoadCall, "binary" | "json"> {
  const message = create(schema, init);
  return { binary: toBinary(schema, message), json: toJsonString(schema, message) };
}

function transport(baseUrl: string, headers: Record<string, string>) {
  return createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    interceptors: [
      (next) => (req) => {
        for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
        return next(req);
      },
    ],
  });
}

/**
 * Makes a tenant and a secret key with the Generate and Verify scopes through
 * AdminService (ADMIN_TOKEN), and returns the header production calls carry.
 */
export async function createApiKeyHeaders(baseUrl: string): Promise<Record<string, string>> {
  const admin = createClient(
    AdminService,
    transport(baseUrl, { authorization: `Bearer ${testAdminToken}` }),
  );
  const { tenant } = await admin.createTenant({ name: "bench" });
  if (tenant === undefined) throw new Error("CreateTenant returned no tenant");
  const { secret } = await admin.createApiKey({
    tenantId: tenant.id,
    kind: ApiKeyKind.SECRET,
    scopes: [Scope.GENERATE, Scope.VERIFY],
    name: "bench",
  });
  return { authorization: `Bearer ${secret}` };
}

/** A code of the same length and alphabet that is certainly not `code`. */
export function wrongCode(code: string): string {
  return [...code].map((c) => (c === "0" ? "1" : "0")).join("");
}

/** The Health call: `grpc.health.v1.Health/Check {}`, on the service and the bare server alike. */
export function healthCall(headers: Record<string, string>): LoadCall {
  return {
    procedure: "grpc.health.v1.Health/Check",
    ...encode(HealthCheckRequestSchema, {}),
    headers,
  };
}

/** The Generate call: `Generate {}` (defaults, no delivery, the code in the answer). */
export function generateCall(headers: Record<string, string>): LoadCall {
  return { procedure: "otp.v1.OtpService/Generate", ...encode(GenerateRequestSchema, {}), headers };
}

/**
 * A Verify call with a wrong code. With `exhausted`, against a challenge
 * whose one attempt is spent, so the same body gives the same answer on every
 * call (h2load sends one body file); each call still looks the challenge up,
 * hashes the code and runs the store's verify step. Without, against a fresh
 * challenge with attempts left (for single-call sampling).
 */
export async function verifyCall(
  baseUrl: string,
  headers: Record<string, string>,
  exhausted: boolean,
): Promise<LoadCall> {
  const client = createClient(OtpService, transport(baseUrl, headers));
  const challenge = await client.generate({ ttlSeconds: 3600, maxAttempts: exhausted ? 1 : 60 });
  const request = { id: challenge.id, code: wrongCode(challenge.code) };
  if (exhausted) {
    await client.verify(request);
    const check = await client.verify(request);
    if (check.result !== VerifyResult.ATTEMPTS_EXHAUSTED) {
      throw new Error(`expected an exhausted challenge, got ${VerifyResult[check.result]}`);
    }
  }
  return {
    procedure: "otp.v1.OtpService/Verify",
    ...encode(VerifyRequestSchema, request),
    headers,
  };
}
