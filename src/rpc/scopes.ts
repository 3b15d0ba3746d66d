import type { ScopeName } from "../tenancy/admin-store.js";

// Which credential each procedure needs: the one table the auth interceptor,
// console sessions and the docs read.

/**
 * What a procedure needs beyond a key: "operator" is the admin credential
 * alone; a scope is also met by the admin credential when it is "admin" or
 * "admin-read" (a key with "admin" holds "admin-read" too).
 */
export type Need = ScopeName | "operator";

/** The scope each procedure needs; procedures not listed need no key (health, reflection). */
export const requiredScopes: Readonly<Record<string, Need>> = {
  "otp.v1.OtpService/Generate": "generate",
  "otp.v1.OtpService/Resend": "generate",
  "otp.v1.OtpService/Cancel": "generate",
  "otp.v1.OtpService/GetChallenge": "generate",
  "otp.v1.OtpService/Verify": "verify",
  "otp.v1.OtpService/EnrollTotp": "totp",
  "otp.v1.OtpService/ConfirmTotp": "totp",
  "otp.v1.OtpService/VerifyTotp": "totp",
  "otp.v1.OtpService/DeleteTotp": "totp",
  "otp.v1.DeliveryService/Send": "send",
  "otp.v1.DeliveryService/GetDelivery": "send",
  "otp.v1.DeliveryService/WatchDelivery": "send",
  "otp.v1.DeliveryService/ListChannels": "send",
  "otp.v1.DeliveryService/ListOutbox": "send",
  "otp.v1.DeliveryService/CreateTelegramLink": "send",
  "otp.v1.AdminService/CreateTenant": "operator",
  "otp.v1.AdminService/ListTenants": "admin",
  "otp.v1.AdminService/CreateApiKey": "admin",
  "otp.v1.AdminService/ListApiKeys": "admin",
  "otp.v1.AdminService/RevokeApiKey": "admin",
  "otp.v1.AdminService/GetUsage": "admin-read",
  // Tenant and key life cycle, and the audit trail.
  "otp.v1.AdminService/RenameTenant": "operator",
  "otp.v1.AdminService/SuspendTenant": "operator",
  "otp.v1.AdminService/ResumeTenant": "operator",
  "otp.v1.AdminService/DeleteTenant": "operator",
  "otp.v1.AdminService/DeleteApiKey": "admin",
  "otp.v1.AdminService/ListAuditEvents": "admin-read",
  "otp.v1.AdminService/WatchAuditEvents": "admin-read",
  "otp.v1.AdminService/ExportAuditEvents": "admin-read",
  // Console data: a tenant's admin-read key sees its own tenant; store nodes are the operator's.
  "otp.v1.AdminService/GetOverview": "admin-read",
  "otp.v1.AdminService/GetTimeSeries": "admin-read",
  "otp.v1.AdminService/WatchActivity": "admin-read",
  "otp.v1.AdminService/GetSystemHealth": "operator",
  // Webhook endpoints and the event stream: a tenant's admin key manages its own, an admin-read key reads them.
  "otp.v1.AdminService/CreateWebhookEndpoint": "admin",
  "otp.v1.AdminService/ListWebhookEndpoints": "admin-read",
  "otp.v1.AdminService/UpdateWebhookEndpoint": "admin",
  "otp.v1.AdminService/RotateWebhookSecret": "admin",
  "otp.v1.AdminService/DeleteWebhookEndpoint": "admin",
  "otp.v1.AdminService/ListWebhookAttempts": "admin-read",
  "otp.v1.AdminService/SendTestWebhook": "admin",
  "otp.v1.AdminService/ReplayWebhookEvent": "admin",
  "otp.v1.AdminService/WatchEvents": "admin-read",
};

/** What a publishable (browser) key may call at all. */
export const publishableProcedures = new Set([
  "otp.v1.OtpService/Generate",
  "otp.v1.OtpService/Verify",
]);

export const anonymousScopes: ReadonlySet<ScopeName> = new Set<ScopeName>([
  "generate",
  "verify",
  "send",
  "totp",
]);

/** True for what the admin credential meets: the operator's own calls and every admin scope. */
export function isAdminNeed(need: Need): boolean {
  return need === "operator" || need === "admin" || need === "admin-read";
}

/** True when `scopes` meet `need`: a key with "admin" manages its tenant, which includes reading it. */
export function holds(scopes: readonly ScopeName[], need: ScopeName): boolean {
  return scopes.includes(need) || (need === "admin-read" && scopes.includes("admin"));
}
