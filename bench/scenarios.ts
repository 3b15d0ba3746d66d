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
import {
  GenerateRequestSchema,
  OtpService,
  VerifyRequestSchema,
  VerifyResult,
} from "../gen/otp/v1/otp_pb.js";
import type { Payloads } from "./load.js";

/** What a scenario may need to build its requests. */
export interface ScenarioContext {
  baseUrl: string;
  /** The baseline's calls/s on the same protocol in this run, to size fixtures. */
  baselineCallsPerSecond: number;
  /** Seconds of load the bodies must last: warm-up plus measurement. */
  loadSeconds: number;
}

/** One RPC to put under load, with the request bodies it sends. */
export interface Scenario {
  /** The label in the report. */
  rpc: string;
  procedure: string;
  /** The trivial RPC every other row of the same protocol is divided by. */
  baseline?: true;
  /** Only for drivers that send a different body on each call. */
  rotatingBodies?: true;
  payloads(context: ScenarioContext): Promise<Payloads & { note?: string }>;
}

/** Encodes request messages with the generated schema, as protobuf bytes and as Connect JSON. */
function encode<Desc extends DescMessage>(schema: Desc, inits: MessageInitShape<Desc>[]): Payloads {
  const messages = inits.map((init) => create(schema, init));
  return {
    binary: messages.map((m) => toBinary(schema, m)),
    json: messages.map((m) => toJsonString(schema, m)),
  };
}

function otpClient(baseUrl: string) {
  return createClient(OtpService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
}

/** A code of the same length and alphabet that is certainly not `code`. */
function wrongCode(code: string): string {
  return [...code].map((c) => (c === "0" ? "1" : "0")).join("");
}

const pendingMaxAttempts = 60;

const healthCheck = {
  procedure: "grpc.health.v1.Health/Check",
  payloads: async () => encode(HealthCheckRequestSchema, [{}]),
};

/** The trivial RPC every other row is divided by; it also warms a fresh service up. */
export const baselineScenario: Scenario = {
  rpc: "Health/Check (baseline)",
  baseline: true,
  ...healthCheck,
};

/** The scenarios in the order they run on each protocol. */
export const scenarios: Scenario[] = [
  baselineScenario,
  {
    rpc: "Generate `{}`",
    procedure: "otp.v1.OtpService/Generate",
    payloads: async () => encode(GenerateRequestSchema, [{}]),
  },
  {
    // Every call sends the same body, so the challenge must be in a state
    // that does not change under load: its one attempt is already spent, and
    // each call still looks it up, hashes the code and asks the store.
    rpc: "Verify, wrong code, exhausted challenge",
    procedure: "otp.v1.OtpService/Verify",
    payloads: async ({ baseUrl }) => {
      const client = otpClient(baseUrl);
      const challenge = await client.generate({ ttlSeconds: 3600, maxAttempts: 1 });
      const request = { id: challenge.id, code: wrongCode(challenge.code) };
      await client.verify(request);
      const check = await client.verify(request);
      if (check.result !== VerifyResult.ATTEMPTS_EXHAUSTED) {
        throw new Error(`expected an exhausted challenge, got ${VerifyResult[check.result]}`);
      }
      return encode(VerifyRequestSchema, [request]);
    },
  },
  {
    // A wrong code against challenges that still have attempts left: each
    // call takes the next challenge in turn, and there are enough of them
    // for every call to find one pending (the server's outcome counts in the
    // report show whether that held).
    rpc: "Verify, wrong code, pending challenges",
    procedure: "otp.v1.OtpService/Verify",
    rotatingBodies: true,
    payloads: async ({ baseUrl, baselineCallsPerSecond, loadSeconds }) => {
      const client = otpClient(baseUrl);
      // Sized for the faster of this run's baseline and the reference ceiling
      // of a 2-core box, with a margin: Verify is never faster than the baseline.
      const rate = Math.max(baselineCallsPerSecond, 6_000);
      const count = Math.ceil((rate * loadSeconds * 1.25) / pendingMaxAttempts);
      const requests: { id: string; code: string }[] = [];
      while (requests.length < count) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(20, count - requests.length) }, () =>
            client.generate({ ttlSeconds: 3600, maxAttempts: pendingMaxAttempts }),
          ),
        );
        requests.push(...batch.map((c) => ({ id: c.id, code: wrongCode(c.code) })));
      }
      return {
        ...encode(VerifyRequestSchema, requests),
        note: `rotating over ${count} challenges of max_attempts ${pendingMaxAttempts}`,
      };
    },
  },
  // The baseline once more: how far it moved during the run shows how much
  // the machine's other work skewed the rows in between.
  { rpc: "Health/Check (baseline again, last)", ...healthCheck },
];
