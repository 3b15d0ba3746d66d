// The operators' command line for AdminService: `npm run admin -- <command>`.
// Talks to a running service over Connect with the admin credential.
//
//   OTP_URL=http://localhost:8080 ADMIN_TOKEN=... npm run admin -- tenants create "Acme"
//   npm run admin -- keys create ten_123 --kind publishable --scopes generate,verify --origins https://shop.example.com
//   npm run admin -- keys list ten_123 | keys revoke otp_sk_1a2b3c4d | usage ten_123 --days 7 | tenants list
import { parseArgs } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  AdminService,
  ApiKeyKind,
  CreateApiKeyResponseSchema,
  CreateTenantResponseSchema,
  GetUsageResponseSchema,
  ListApiKeysResponseSchema,
  ListTenantsResponseSchema,
  RevokeApiKeyResponseSchema,
  Scope,
} from "../gen/otp/v1/admin_pb.js";

const usage = `usage: npm run admin -- <command>
  tenants create <name>
  tenants list
  keys create <tenant-id> [--kind secret|publishable] --scopes generate,verify,send,totp,admin-read,admin [--origins <origin,...>] [--name <name>]
  keys list <tenant-id>
  keys revoke <key-id>
  usage <tenant-id> [--days <1-31>]
environment: OTP_URL (default http://localhost:8080), ADMIN_TOKEN (required)`;

const scopes: Record<string, Scope> = {
  generate: Scope.GENERATE,
  verify: Scope.VERIFY,
  send: Scope.SEND,
  totp: Scope.TOTP,
  "admin-read": Scope.ADMIN_READ,
  admin: Scope.ADMIN,
};

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      kind: { type: "string", default: "secret" },
      scopes: { type: "string", default: "" },
      origins: { type: "string", default: "" },
      name: { type: "string", default: "" },
      days: { type: "string", default: "7" },
    },
  });
  const token = process.env.ADMIN_TOKEN;
  if (token === undefined || token === "") fail(`ADMIN_TOKEN is not set\n${usage}`);
  const admin = createClient(
    AdminService,
    createConnectTransport({
      baseUrl: process.env.OTP_URL ?? "http://localhost:8080",
      httpVersion: "1.1",
      interceptors: [
        (next) => (req) => {
          req.header.set("authorization", `Bearer ${token}`);
          return next(req);
        },
      ],
    }),
  );
  const list = (text: string) =>
    text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  const print = (value: unknown): void => {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  };
  const [group, command, arg] = positionals;

  switch (group === "usage" ? "usage" : `${group} ${command ?? ""}`.trim()) {
    case "tenants create":
      if (arg === undefined) fail(usage);
      return print(toJson(CreateTenantResponseSchema, await admin.createTenant({ name: arg })));
    case "tenants list":
      return print(toJson(ListTenantsResponseSchema, await admin.listTenants({})));
    case "keys create": {
      if (arg === undefined) fail(usage);
      const scopeValues = list(values.scopes).map(
        (s) => scopes[s] ?? fail(`unknown scope "${s}"\n${usage}`),
      );
      const kind = values.kind === "publishable" ? ApiKeyKind.PUBLISHABLE : ApiKeyKind.SECRET;
      const created = await admin.createApiKey({
        tenantId: arg,
        kind,
        scopes: scopeValues,
        allowedOrigins: list(values.origins),
        name: values.name,
      });
      // The secret is shown here once; it cannot be read again.
      return print(toJson(CreateApiKeyResponseSchema, created));
    }
    case "keys list":
      if (arg === undefined) fail(usage);
      return print(toJson(ListApiKeysResponseSchema, await admin.listApiKeys({ tenantId: arg })));
    case "keys revoke":
      if (arg === undefined) fail(usage);
      return print(toJson(RevokeApiKeyResponseSchema, await admin.revokeApiKey({ keyId: arg })));
    case "usage":
      return print(
        toJson(
          GetUsageResponseSchema,
          await admin.getUsage({ tenantId: command ?? "", days: Number(values.days) }),
        ),
      );
    default:
      fail(usage);
  }
}

main().catch((err: unknown) => {
  const e = ConnectError.from(err);
  fail(`admin: ${Code[e.code]}: ${e.rawMessage}`);
});
