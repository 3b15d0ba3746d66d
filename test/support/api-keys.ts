import { callJson } from "./connect-json.js";

/**
 * Creates a tenant and a key through AdminService with hand-built Connect
 * JSON, and returns the key's secret.
 */
export async function createApiKey(
  baseUrl: string,
  adminToken: string,
  key: {
    kind?: "API_KEY_KIND_SECRET" | "API_KEY_KIND_PUBLISHABLE";
    scopes?: string[];
    allowedOrigins?: string[];
    tenantId?: string;
  } = {},
): Promise<string> {
  const auth = { authorization: `Bearer ${adminToken}` };
  const tenantId =
    key.tenantId ??
    (
      (await callJson(baseUrl, "otp.v1.AdminService/CreateTenant", { name: "test tenant" }, auth))
        .body.tenant as { id: string }
    ).id;
  const created = await callJson(
    baseUrl,
    "otp.v1.AdminService/CreateApiKey",
    {
      tenantId,
      kind: key.kind ?? "API_KEY_KIND_SECRET",
      scopes: key.scopes ?? ["SCOPE_GENERATE", "SCOPE_VERIFY"],
      allowedOrigins: key.allowedOrigins ?? [],
    },
    auth,
  );
  if (created.status !== 200)
    throw new Error(`CreateApiKey failed: ${JSON.stringify(created.body)}`);
  return created.body.secret as string;
}
