// The operators' command line for AdminService: `npm run admin -- <command>`.
// Talks to a running service over Connect with the admin credential.
//
//   OTP_URL=http://localhost:8080 ADMIN_TOKEN=... npm run admin -- tenants create "Acme"
//   npm run admin -- keys create ten_123 --kind publishable --scopes generate,verify --origins https://shop.example.com
//   npm run admin -- keys create ten_123 --scopes generate,verify --expires 30d
//   npm run admin -- tenants suspend ten_123 --reason "unpaid" | tenants resume ten_123
//   npm run admin -- audit list --tenant ten_123 --action key. | audit export --since 2026-11-01 > audit.jsonl
//   npm run admin -- webhooks create ten_123 https://hooks.example.com/otp --types challenge.verified
import { parseArgs } from "node:util";
import {
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  toJson,
} from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  AdminService,
  ApiKeyKind,
  CreateApiKeyResponseSchema,
  CreateTenantResponseSchema,
  DeleteApiKeyResponseSchema,
  DeleteTenantResponseSchema,
  GetUsageResponseSchema,
  ListApiKeysResponseSchema,
  ListTenantsResponseSchema,
  RenameTenantResponseSchema,
  ResumeTenantResponseSchema,
  RevokeApiKeyResponseSchema,
  Scope,
  SuspendTenantResponseSchema,
} from "../gen/otp/v1/admin_pb.js";
import {
  AuditActorKind,
  AuditEventSchema,
  type AuditFilterSchema,
  ListAuditEventsResponseSchema,
} from "../gen/otp/v1/audit_pb.js";
import { events, webhookOptions, webhooks, webhookUsage } from "./admin-webhooks.js";

const usage = `usage: npm run admin -- <command>
  tenants create <name>
  tenants list
  tenants rename <tenant-id> <name>
  tenants suspend <tenant-id> [--reason <text>]
  tenants resume <tenant-id>
  tenants delete <tenant-id>            (deletes its keys too)
  keys create <tenant-id> [--kind secret|publishable] --scopes generate,verify,send,totp,admin-read,admin
              [--origins <origin,...>] [--name <name>] [--expires <ISO time | 12h | 30d>]
  keys list <tenant-id>
  keys revoke <key-id>
  keys delete <key-id>
  usage <tenant-id> [--days <1-31>]
  audit list   [filters] [--page-size <1-500>] [--page-token <token>]
  audit export [filters]     JSON lines on stdout, oldest first
  audit watch  [filters]     JSON lines on stdout as events happen
${webhookUsage}
filters: --tenant <id> --action <prefix> --actor <id> --actor-kind operator|api-key|console-session|system
         --since <ISO time | 24h | 7d> --until <ISO time>
environment: OTP_URL (default http://localhost:8080), ADMIN_TOKEN (required)`;

const scopes: Record<string, Scope> = {
  generate: Scope.GENERATE,
  verify: Scope.VERIFY,
  send: Scope.SEND,
  totp: Scope.TOTP,
  "admin-read": Scope.ADMIN_READ,
  admin: Scope.ADMIN,
};

const actorKinds: Record<string, AuditActorKind> = {
  operator: AuditActorKind.OPERATOR,
  "api-key": AuditActorKind.API_KEY,
  "console-session": AuditActorKind.CONSOLE_SESSION,
  system: AuditActorKind.SYSTEM,
};

const options = {
  kind: { type: "string", default: "secret" },
  scopes: { type: "string", default: "" },
  origins: { type: "string", default: "" },
  name: { type: "string", default: "" },
  days: { type: "string", default: "7" },
  expires: { type: "string" },
  reason: { type: "string", default: "" },
  tenant: { type: "string", default: "" },
  action: { type: "string", default: "" },
  actor: { type: "string", default: "" },
  "actor-kind": { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  "page-size": { type: "string", default: "0" },
  "page-token": { type: "string", default: "" },
  ...webhookOptions,
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options }>>["values"];
type Admin = Client<typeof AdminService>;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

function print<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  process.stdout.write(`${JSON.stringify(toJson(schema, message), null, 2)}\n`);
}

/** A time given as ISO 8601, or as a span from now: forward for an expiry ("30d"), back for a filter. */
function timeArg(text: string, direction: 1 | -1): number {
  const span = /^(\d+)([smhd])$/.exec(text);
  if (span !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as "s"];
    return Date.now() + direction * Number(span[1]) * unit;
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) fail(`"${text}" is neither an ISO time nor a span like 12h or 30d`);
  return ms;
}

function auditFilter(values: Values): MessageInitShape<typeof AuditFilterSchema> {
  const kind = values["actor-kind"];
  return {
    tenantId: values.tenant,
    actionPrefix: values.action,
    actorId: values.actor,
    actorKind: kind === undefined ? AuditActorKind.UNSPECIFIED : (actorKinds[kind] ?? fail(usage)),
    since: values.since === undefined ? undefined : timestampFromMs(timeArg(values.since, -1)),
    until: values.until === undefined ? undefined : timestampFromMs(timeArg(values.until, -1)),
  };
}

async function tenants(admin: Admin, command: string, args: string[], values: Values) {
  const [id, name] = args;
  if (command === "list") return print(ListTenantsResponseSchema, await admin.listTenants({}));
  if (id === undefined) fail(usage);
  switch (command) {
    case "create":
      return print(CreateTenantResponseSchema, await admin.createTenant({ name: id }));
    case "rename":
      if (name === undefined) fail(usage);
      return print(RenameTenantResponseSchema, await admin.renameTenant({ tenantId: id, name }));
    case "suspend":
      return print(
        SuspendTenantResponseSchema,
        await admin.suspendTenant({ tenantId: id, reason: values.reason }),
      );
    case "resume":
      return print(ResumeTenantResponseSchema, await admin.resumeTenant({ tenantId: id }));
    case "delete":
      return print(DeleteTenantResponseSchema, await admin.deleteTenant({ tenantId: id }));
    default:
      fail(usage);
  }
}

async function keys(admin: Admin, command: string, id: string | undefined, values: Values) {
  if (id === undefined) fail(usage);
  switch (command) {
    case "create": {
      const scopeValues = list(values.scopes).map(
        (s) => scopes[s] ?? fail(`unknown scope "${s}"\n${usage}`),
      );
      const created = await admin.createApiKey({
        tenantId: id,
        kind: values.kind === "publishable" ? ApiKeyKind.PUBLISHABLE : ApiKeyKind.SECRET,
        scopes: scopeValues,
        allowedOrigins: list(values.origins),
        name: values.name,
        expiresAt:
          values.expires === undefined ? undefined : timestampFromMs(timeArg(values.expires, 1)),
      });
      // The secret is shown here once; it cannot be read again.
      return print(CreateApiKeyResponseSchema, created);
    }
    case "list":
      return print(ListApiKeysResponseSchema, await admin.listApiKeys({ tenantId: id }));
    case "revoke":
      return print(RevokeApiKeyResponseSchema, await admin.revokeApiKey({ keyId: id }));
    case "delete":
      return print(DeleteApiKeyResponseSchema, await admin.deleteApiKey({ keyId: id }));
    default:
      fail(usage);
  }
}

async function audit(admin: Admin, command: string, values: Values) {
  const filter = auditFilter(values);
  switch (command) {
    case "list":
      return print(
        ListAuditEventsResponseSchema,
        await admin.listAuditEvents({
          filter,
          pageSize: Number(values["page-size"]),
          pageToken: values["page-token"],
        }),
      );
    case "export":
      // The service writes the lines: stdout gets them as they are.
      for await (const chunk of admin.exportAuditEvents({ filter })) {
        process.stdout.write(chunk.jsonLines);
      }
      return;
    case "watch":
      for await (const { event } of admin.watchAuditEvents({ filter })) {
        if (event !== undefined) {
          process.stdout.write(`${JSON.stringify(toJson(AuditEventSchema, event))}\n`);
        }
      }
      return;
    default:
      fail(usage);
  }
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options });
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
  const [group, command = "", ...rest] = positionals;
  switch (group) {
    case "tenants":
      return tenants(admin, command, rest, values);
    case "keys":
      return keys(admin, command, rest[0], values);
    case "audit":
      return audit(admin, command, values);
    case "webhooks":
      return webhooks(admin, command, rest, values, (m) => fail(`${m}\n${usage}`));
    case "events":
      return events(admin, command, values, (m) => fail(`${m}\n${usage}`));
    case "usage":
      return print(
        GetUsageResponseSchema,
        await admin.getUsage({ tenantId: command, days: Number(values.days) }),
      );
    default:
      fail(usage);
  }
}

main().catch((err: unknown) => {
  const e = ConnectError.from(err);
  fail(`admin: ${Code[e.code]}: ${e.rawMessage}`);
});
