import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_health_v1_health, Health } from "../../gen/health/v1/health_pb.js";
import { DeliveryService, file_otp_v1_delivery } from "../../gen/otp/v1/delivery_pb.js";
import { file_otp_v1_otp, OtpService } from "../../gen/otp/v1/otp_pb.js";
import { createListener, type Listener } from "../http/listener.js";
import { createHealthService } from "./health-service.js";
import { createDescriptorRegistry, createReflectionServices } from "./reflection-service.js";

const execFileAsync = promisify(execFile);
const buf = fileURLToPath(new URL("../../node_modules/.bin/buf", import.meta.url));
const reflectionProtoDir = fileURLToPath(
  new URL("../../node_modules/@grpc/reflection/build/proto", import.meta.url),
);

const registry = createDescriptorRegistry(
  file_otp_v1_otp,
  file_otp_v1_delivery,
  file_health_v1_health,
);
const reflection = createReflectionServices(registry, [
  OtpService.typeName,
  DeliveryService.typeName,
  Health.typeName,
]);

let listener: Listener;
let baseUrl: string;

beforeAll(async () => {
  const health = createHealthService();
  listener = createListener({
    handler: connectNodeAdapter({
      routes: (router) => {
        router.service(Health, health.impl);
        router.service(ServerReflection, reflection.v1);
        router.service(v1alpha.ServerReflection, reflection.v1alpha);
      },
    }),
  });
  const { port } = await listener.listen(0, "127.0.0.1");
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await listener.close(100);
});

type Request = Parameters<typeof create<typeof ServerReflectionRequestSchema>>[1];

// Sends the requests on one v1 stream and returns the responses in order.
async function reflect(...requests: NonNullable<Request>[]): Promise<ServerReflectionResponse[]> {
  const client = createClient(ServerReflection, createGrpcTransport({ baseUrl }));
  const messages: ServerReflectionRequest[] = requests.map((r) =>
    create(ServerReflectionRequestSchema, r),
  );
  const responses: ServerReflectionResponse[] = [];
  for await (const res of client.serverReflectionInfo(
    (async function* () {
      yield* messages;
    })(),
  )) {
    responses.push(res);
  }
  return responses;
}

function fileNames(res: ServerReflectionResponse | undefined): string[] {
  if (res?.messageResponse.case !== "fileDescriptorResponse") {
    throw new Error(`expected files, got ${res?.messageResponse.case}`);
  }
  return res.messageResponse.value.fileDescriptorProto.map(
    (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
  );
}

function errorCode(res: ServerReflectionResponse | undefined): number | undefined {
  return res?.messageResponse.case === "errorResponse"
    ? res.messageResponse.value.errorCode
    : undefined;
}

describe("createReflectionServices", () => {
  it("lists the registered services and itself with buf curl", async () => {
    const { stdout } = await execFileAsync(buf, [
      "curl",
      "--http2-prior-knowledge",
      "--protocol",
      "grpc",
      "--list-services",
      baseUrl,
    ]);
    expect(stdout.trim().split("\n").sort()).toEqual(
      [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "otp.v1.DeliveryService",
        "otp.v1.OtpService",
      ].sort(),
    );
  });

  it("describes otp.v1.OtpService well enough for buf curl to list and call methods", async () => {
    const { stdout } = await execFileAsync(buf, [
      "curl",
      "--http2-prior-knowledge",
      "--protocol",
      "grpc",
      "--list-methods",
      baseUrl,
    ]);
    const methods = stdout.trim().split("\n");
    expect(methods).toContain("otp.v1.OtpService/Generate");
    expect(methods).toContain("otp.v1.OtpService/Verify");
    expect(methods).toContain("grpc.health.v1.Health/Check");

    // A real call whose request and response schemas come from reflection.
    const call = await execFileAsync(buf, [
      "curl",
      "--http2-prior-knowledge",
      "--protocol",
      "grpc",
      "--data",
      '{"service": ""}',
      `${baseUrl}/grpc.health.v1.Health/Check`,
    ]);
    expect(JSON.parse(call.stdout)).toEqual({ status: "SERVING" });
  });

  it("answers the v1alpha protocol for grpc-js clients", async () => {
    const definition = protoLoader.loadSync("grpc/reflection/v1alpha/reflection.proto", {
      includeDirs: [reflectionProtoDir],
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1alpha: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    const Client = loaded.grpc.reflection.v1alpha.ServerReflection;
    const client = new Client(baseUrl.replace("http://", ""), grpc.credentials.createInsecure());
    const call = (
      client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, unknown> }
    ).ServerReflectionInfo();
    const responses: {
      listServicesResponse?: { service: { name: string }[] };
      fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
    }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (res: (typeof responses)[number]) => responses.push(res));
      call.on("end", resolve);
      call.on("error", reject);
    });
    call.write({ listServices: "" });
    call.write({ fileContainingSymbol: "grpc.health.v1.Health" });
    call.end();
    await done;
    client.close();

    expect(responses[0]?.listServicesResponse?.service.map((s) => s.name)).toContain(
      "grpc.health.v1.Health",
    );
    const protos = responses[1]?.fileDescriptorResponse?.fileDescriptorProto ?? [];
    expect(protos.map((b) => fromBinary(FileDescriptorProtoSchema, b).name)).toEqual([
      "health/v1/health.proto",
    ]);
  });

  it("sends a file with each of its transitive dependencies once", async () => {
    const [byName, bySymbol] = await reflect(
      { messageRequest: { case: "fileByFilename", value: "otp/v1/otp.proto" } },
      { messageRequest: { case: "fileContainingSymbol", value: "otp.v1.OtpService" } },
    );
    for (const res of [byName, bySymbol]) {
      const names = fileNames(res);
      expect(names[0]).toBe("otp/v1/otp.proto");
      expect(names).toContain("otp/v1/channel.proto");
      expect(names).toContain("google/protobuf/timestamp.proto");
      expect(new Set(names).size).toBe(names.length);
      const decoded = fromBinary(
        FileDescriptorProtoSchema,
        res?.messageResponse.case === "fileDescriptorResponse"
          ? (res.messageResponse.value.fileDescriptorProto[0] ?? new Uint8Array())
          : new Uint8Array(),
      );
      expect(decoded.service.map((s) => s.name)).toContain("OtpService");
    }
  });

  it("finds the file of methods, messages, nested enums, fields and enum values", async () => {
    const symbols = [
      "grpc.health.v1.Health.Check",
      "grpc.health.v1.HealthCheckRequest",
      "grpc.health.v1.HealthCheckResponse.ServingStatus",
      "grpc.health.v1.HealthCheckResponse.SERVING",
      "grpc.health.v1.HealthCheckRequest.service",
      "otp.v1.GenerateRequest",
      "otp.v1.Channel",
    ];
    const responses = await reflect(
      ...symbols.map((value) => ({
        messageRequest: { case: "fileContainingSymbol" as const, value },
      })),
    );
    expect(responses.map((res) => fileNames(res)[0])).toEqual([
      "health/v1/health.proto",
      "health/v1/health.proto",
      "health/v1/health.proto",
      "health/v1/health.proto",
      "health/v1/health.proto",
      "otp/v1/otp.proto",
      "otp/v1/channel.proto",
    ]);
  });

  it("answers lookups that fail with NOT_FOUND and keeps the stream open", async () => {
    const responses = await reflect(
      { messageRequest: { case: "fileByFilename", value: "no/such.proto" } },
      { messageRequest: { case: "fileContainingSymbol", value: "no.such.Symbol" } },
      {
        messageRequest: {
          case: "fileContainingExtension",
          value: { containingType: "otp.v1.GenerateRequest", extensionNumber: 1000 },
        },
      },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "no.such.Message" } },
      { messageRequest: { case: "listServices", value: "" } },
    );
    expect(responses.slice(0, 4).map(errorCode)).toEqual([
      Code.NotFound,
      Code.NotFound,
      Code.NotFound,
      Code.NotFound,
    ]);
    expect(responses[4]?.messageResponse.case).toBe("listServicesResponse");
  });

  it("lists the extension numbers of a known message", async () => {
    const [res] = await reflect({
      host: "example",
      messageRequest: { case: "allExtensionNumbersOfType", value: "otp.v1.GenerateRequest" },
    });
    expect(res?.validHost).toBe("example");
    expect(res?.originalRequest?.messageRequest.case).toBe("allExtensionNumbersOfType");
    expect(res?.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "otp.v1.GenerateRequest", extensionNumber: [] },
    });
  });

  it("refuses a service name the registry does not describe", () => {
    expect(() => createReflectionServices(registry, ["no.such.Service"])).toThrow();
  });
});
