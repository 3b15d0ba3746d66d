// The `webhooks` and `events` commands of scripts/admin.ts.
import { type DescMessage, type MessageShape, toJson } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { AdminService } from "../gen/otp/v1/admin_pb.js";
import {
  CreateWebhookEndpointResponseSchema,
  DeleteWebhookEndpointResponseSchema,
  EventSchema,
  ListWebhookAttemptsResponseSchema,
  ListWebhookEndpointsResponseSchema,
  ReplayWebhookEventResponseSchema,
  RotateWebhookSecretResponseSchema,
  SendTestWebhookResponseSchema,
  UpdateWebhookEndpointResponseSchema,
} from "../gen/otp/v1/webhooks_pb.js";

/** The usage lines of these commands. */
export const webhookUsage = `  webhooks create <tenant-id> <url> [--types challenge.verified,...] [--description <text>]
  webhooks list <tenant-id>
  webhooks update <endpoint-id> [--url <url>] [--types <type,...> | --all-types] [--description <text>] [--enable | --disable]
  webhooks rotate <endpoint-id> [--overlap <12h | 7d>]   prints the new secret once
  webhooks delete <endpoint-id>
  webhooks attempts <endpoint-id> [--page-size <1-100>]
  webhooks test <endpoint-id>
  webhooks replay <endpoint-id> <message-id>
  events watch [--tenant <id>] [--types <type,...>]   JSON lines on stdout as events happen`;

/** The options these commands read. */
export const webhookOptions = {
  url: { type: "string" },
  types: { type: "string" },
  "all-types": { type: "boolean", default: false },
  description: { type: "string" },
  enable: { type: "boolean", default: false },
  disable: { type: "boolean", default: false },
  overlap: { type: "string" },
} as const;

type Values = {
  url?: string;
  types?: string;
  "all-types"?: boolean;
  description?: string;
  enable?: boolean;
  disable?: boolean;
  overlap?: string;
  tenant?: string;
  "page-size"?: string;
};

const list = (text: string | undefined) =>
  (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

function print<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  process.stdout.write(`${JSON.stringify(toJson(schema, message), null, 2)}\n`);
}

function seconds(text: string | undefined, fail: (m: string) => never): number {
  if (text === undefined) return 0;
  const span = /^(\d+)([smhd])$/.exec(text);
  if (span === null) fail(`"${text}" is not a span like 12h or 7d`);
  return Number(span[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[span[2] as "s"];
}

/** Runs `webhooks <command> ...`. */
export async function webhooks(
  admin: Client<typeof AdminService>,
  command: string,
  args: string[],
  values: Values,
  fail: (message: string) => never,
): Promise<void> {
  const [id, second] = args;
  if (id === undefined) fail("missing an id");
  switch (command) {
    case "create":
      if (second === undefined) fail("missing the URL");
      // The secret is shown here once; it cannot be read again.
      return print(
        CreateWebhookEndpointResponseSchema,
        await admin.createWebhookEndpoint({
          tenantId: id,
          url: second,
          eventTypes: list(values.types),
          description: values.description ?? "",
        }),
      );
    case "list":
      return print(
        ListWebhookEndpointsResponseSchema,
        await admin.listWebhookEndpoints({ tenantId: id }),
      );
    case "update":
      return print(
        UpdateWebhookEndpointResponseSchema,
        await admin.updateWebhookEndpoint({
          endpointId: id,
          url: values.url,
          description: values.description,
          eventTypes: list(values.types),
          replaceEventTypes: values.types !== undefined || values["all-types"] === true,
          enabled: values.enable ? true : values.disable ? false : undefined,
        }),
      );
    case "rotate":
      return print(
        RotateWebhookSecretResponseSchema,
        await admin.rotateWebhookSecret({
          endpointId: id,
          overlapSeconds: seconds(values.overlap, fail),
        }),
      );
    case "delete":
      return print(
        DeleteWebhookEndpointResponseSchema,
        await admin.deleteWebhookEndpoint({ endpointId: id }),
      );
    case "attempts":
      return print(
        ListWebhookAttemptsResponseSchema,
        await admin.listWebhookAttempts({
          endpointId: id,
          pageSize: Number(values["page-size"] ?? 0),
        }),
      );
    case "test":
      return print(SendTestWebhookResponseSchema, await admin.sendTestWebhook({ endpointId: id }));
    case "replay":
      if (second === undefined) fail("missing the message id");
      return print(
        ReplayWebhookEventResponseSchema,
        await admin.replayWebhookEvent({ endpointId: id, messageId: second }),
      );
    default:
      fail(`unknown command webhooks ${command}`);
  }
}

/** Runs `events watch`: one JSON line per event until interrupted. */
export async function events(
  admin: Client<typeof AdminService>,
  command: string,
  values: Values,
  fail: (message: string) => never,
): Promise<void> {
  if (command !== "watch") fail(`unknown command events ${command}`);
  for await (const { event } of admin.watchEvents({
    tenantId: values.tenant ?? "",
    types: list(values.types),
  })) {
    if (event !== undefined)
      process.stdout.write(`${JSON.stringify(toJson(EventSchema, event))}\n`);
  }
}
