import {
  create,
  createFileRegistry,
  type DescFile,
  type FileRegistry,
  toBinary,
} from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** The two gRPC server reflection services, ready for `router.service`. */
export interface ReflectionServices {
  /** `grpc.reflection.v1.ServerReflection`, used by current grpcurl and `buf curl`. */
  v1: ServiceImpl<typeof v1.ServerReflection>;
  /** `grpc.reflection.v1alpha.ServerReflection`, used by older clients. */
  v1alpha: ServiceImpl<typeof v1alpha.ServerReflection>;
}

// The request oneof is the same in both versions apart from the type names.
type MessageRequest =
  | v1.ServerReflectionRequest["messageRequest"]
  | v1alpha.ServerReflectionRequest["messageRequest"];

// A response oneof without type names, so that one answer fits both versions.
type MessageResponse =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | {
      case: "allExtensionNumbersResponse";
      value: { baseTypeName: string; extensionNumber: number[] };
    }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * Creates gRPC server reflection (https://github.com/grpc/grpc/blob/master/doc/server-reflection.md)
 * in both protocol versions, so grpcurl and `buf curl` work without proto files.
 *
 * `registry` must hold the files of every service in `serviceNames`, which
 * is what `list_services` answers. The reflection services list and describe
 * themselves as well, whether or not the registry knows them. Lookups that
 * fail are answered with an `error_response` carrying a gRPC status code;
 * the stream stays open.
 *
 * @example
 * const registry = createDescriptorRegistry(file_otp_v1_otp, file_health_v1_health);
 * const reflection = createReflectionServices(registry, [OtpService.typeName, Health.typeName]);
 * router.service(v1.ServerReflection, reflection.v1);
 * router.service(v1alpha.ServerReflection, reflection.v1alpha);
 */
export function createReflectionServices(
  registry: FileRegistry,
  serviceNames: string[],
): ReflectionServices {
  const selfNames = [v1.ServerReflection.typeName, v1alpha.ServerReflection.typeName];
  const all = createFileRegistry(
    registry,
    createDescriptorRegistry(
      v1.file_grpc_reflection_v1_reflection,
      v1alpha.file_grpc_reflection_v1alpha_reflection,
    ),
  );
  const names = [...new Set([...serviceNames, ...selfNames])];
  for (const name of names) {
    if (all.getService(name) === undefined) {
      throw new Error(`reflection: service ${name} is not in the registry`);
    }
  }
  const answer = createAnswerer(all, names);

  return {
    v1: {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield create(v1.ServerReflectionResponseSchema, {
            validHost: req.host,
            originalRequest: req,
            messageResponse: answer(req.messageRequest),
          });
        }
      },
    },
    v1alpha: {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield create(v1alpha.ServerReflectionResponseSchema, {
            validHost: req.host,
            originalRequest: req,
            messageResponse: answer(req.messageRequest),
          });
        }
      },
    },
  };
}

/**
 * Builds a `FileRegistry` from generated file descriptors (`file_*` exports
 * of `gen/`) and everything they import, for {@link createReflectionServices}.
 * `createFileRegistry` itself takes registries or descriptor protos, not
 * generated files.
 *
 * @example
 * const registry = createDescriptorRegistry(file_otp_v1_otp, file_otp_v1_delivery);
 */
export function createDescriptorRegistry(...files: DescFile[]): FileRegistry {
  // Dependencies first: a file can only be added once its imports are known.
  const ordered: FileDescriptorProto[] = [];
  const seen = new Set<string>();
  const visit = (file: DescFile) => {
    if (seen.has(file.proto.name)) {
      return;
    }
    seen.add(file.proto.name);
    for (const dependency of file.dependencies) {
      visit(dependency);
    }
    ordered.push(file.proto);
  };
  for (const file of files) {
    visit(file);
  }
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}

function createAnswerer(
  registry: FileRegistry,
  serviceNames: string[],
): (request: MessageRequest) => MessageResponse {
  const listServices: MessageResponse = {
    case: "listServicesResponse",
    value: { service: serviceNames.map((name) => ({ name })) },
  };

  return (request) => {
    switch (request.case) {
      case "listServices":
        return listServices;
      case "fileByFilename": {
        const file = registry.getFile(request.value);
        return file ? files(file) : notFound("file not found");
      }
      case "fileContainingSymbol": {
        const file = fileContainingSymbol(registry, request.value);
        return file ? files(file) : notFound("symbol not found");
      }
      case "fileContainingExtension": {
        const message = registry.getMessage(request.value.containingType);
        const extension = message
          ? registry.getExtensionFor(message, request.value.extensionNumber)
          : undefined;
        return extension ? files(extension.file) : notFound("extension not found");
      }
      case "allExtensionNumbersOfType": {
        const message = registry.getMessage(request.value);
        if (message === undefined) {
          return notFound("type not found");
        }
        const numbers: number[] = [];
        for (const desc of registry) {
          if (desc.kind === "extension" && desc.extendee.typeName === message.typeName) {
            numbers.push(desc.number);
          }
        }
        return {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: message.typeName, extensionNumber: numbers },
        };
      }
      default:
        return {
          case: "errorResponse",
          value: { errorCode: Code.InvalidArgument, errorMessage: "empty request" },
        };
    }
  };
}

// Connect codes share their numbers with gRPC status codes (NOT_FOUND is 5).
function notFound(errorMessage: string): MessageResponse {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage } };
}

/** The file first, then each of its transitive dependencies once. */
function files(file: DescFile): MessageResponse {
  const seen = new Set<string>();
  const fileDescriptorProto: Uint8Array[] = [];
  const visit = (f: DescFile) => {
    if (seen.has(f.proto.name)) {
      return;
    }
    seen.add(f.proto.name);
    fileDescriptorProto.push(toBinary(FileDescriptorProtoSchema, f.proto));
    for (const dependency of f.dependencies) {
      visit(dependency);
    }
  };
  visit(file);
  return { case: "fileDescriptorResponse", value: { fileDescriptorProto } };
}

/**
 * Finds the file declaring a fully-qualified symbol: a message, enum,
 * extension or service (nested ones included), or a member of one of them
 * (a method, a field, a oneof, an enum value).
 */
function fileContainingSymbol(registry: FileRegistry, symbol: string): DescFile | undefined {
  const name = symbol.startsWith(".") ? symbol.slice(1) : symbol;
  const desc = registry.get(name);
  if (desc) {
    return desc.file;
  }
  const dot = name.lastIndexOf(".");
  if (dot < 0) {
    return undefined;
  }
  const parentName = name.slice(0, dot);
  const member = name.slice(dot + 1);
  const parent = registry.get(parentName);
  if (parent?.kind === "service" && parent.methods.some((m) => m.name === member)) {
    return parent.file;
  }
  if (
    parent?.kind === "message" &&
    (parent.fields.some((f) => f.name === member) || parent.oneofs.some((o) => o.name === member))
  ) {
    return parent.file;
  }
  // Enum values are scoped like siblings of their enum: pkg.Enum's VALUE is pkg.VALUE.
  for (const desc of registry) {
    if (
      desc.kind === "enum" &&
      desc.typeName.lastIndexOf(".") === dot &&
      desc.typeName.startsWith(parentName) &&
      desc.values.some((v) => v.name === member)
    ) {
      return desc.file;
    }
  }
  return undefined;
}
