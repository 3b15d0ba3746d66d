// Tenants & keys: every tenant for the operator, its own for a tenant's key;
// the selected tenant's keys and usage. Tenant lifecycle actions (rename,
// suspend, delete) appear only once the contract has their RPCs.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Tenant, TenantSchema } from "../../gen/otp/v1/admin_pb.js";
import { admin, callByName, describeError, hasMethods, isSignedOut } from "../api.js";
import { formatTime, h, replace } from "../dom.js";
import { type ConsolePage, canManage, isOperator, type PageContext } from "../page.js";
import { renderKeys } from "./keys.js";
import { renderUsage } from "./usage.js";

/** The tenants & keys page. */
export const tenantsPage: ConsolePage = {
  id: "tenants",
  title: "Tenants & keys",
  available: () => true,
  render(root, ctx) {
    const stops: (() => void)[] = [];
    const list = h("div", { class: "panel", id: "tenant-list" });
    const detail = h("div", { class: "tenant-detail", id: "tenant-detail" });
    replace(
      root,
      h("h1", {}, "Tenants & keys"),
      isOperator(ctx.session) ? createTenantForm(ctx, () => load()) : null,
      list,
      detail,
    );

    let selected = new URLSearchParams(location.hash.split("?")[1] ?? "").get("tenant") ?? "";
    const select = (tenant: Tenant) => {
      selected = tenant.id;
      for (const row of list.querySelectorAll("tr[data-tenant]")) {
        row.classList.toggle("selected", row.getAttribute("data-tenant") === tenant.id);
      }
      for (const stop of stops.splice(0)) stop();
      replace(detail, h("h2", {}, tenant.name, " ", h("code", { class: "muted" }, tenant.id)));
      const sections = h("div", { class: "columns" });
      detail.append(sections);
      if (canManage(ctx.session)) {
        const keys = h("section", { class: "panel", "data-testid": "keys" });
        sections.append(keys);
        stops.push(renderKeys(keys, tenant.id, ctx));
      }
      const usage = h("section", { class: "panel", "data-testid": "usage" });
      sections.append(usage);
      stops.push(renderUsage(usage, tenant.id, ctx));
    };

    const load = async () => {
      try {
        const { tenants } = await admin.listTenants({});
        replace(
          list,
          tenantTable(tenants, select, ctx, () => load()),
        );
        const initial = tenants.find((t) => t.id === selected) ?? tenants[0];
        if (initial !== undefined) select(initial);
        else replace(detail, h("p", { class: "muted" }, "No tenants yet. Create one above."));
      } catch (err) {
        if (isSignedOut(err)) ctx.signedOut();
        else ctx.notify(`Could not list tenants: ${describeError(err)}`, "error");
      }
    };
    void load();
    return () => {
      for (const stop of stops) stop();
    };
  },
};

function createTenantForm(ctx: PageContext, created: () => void): HTMLElement {
  const name = h("input", {
    id: "tenant-name",
    name: "name",
    maxlength: "100",
    placeholder: "Acme Inc.",
    required: true,
  });
  const form = h(
    "form",
    { class: "inline-form", id: "create-tenant" },
    h("label", { for: "tenant-name" }, "New tenant"),
    name,
    h("button", { class: "primary", type: "submit" }, "Create tenant"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { tenant } = await admin.createTenant({ name: name.value.trim() });
      name.value = "";
      ctx.notify(`Tenant ${tenant?.name ?? ""} created.`);
      if (tenant !== undefined) location.hash = `#/tenants?tenant=${encodeURIComponent(tenant.id)}`;
      created();
    } catch (err) {
      ctx.notify(`Could not create the tenant: ${describeError(err)}`, "error");
    }
  });
  return form;
}

// The lifecycle RPCs another part of the contract adds; each button shows once its RPC exists.
const lifecycle = [
  { method: "renameTenant", label: "Rename", ask: "New name", field: "name" },
  {
    method: "suspendTenant",
    label: "Suspend",
    ask: "Why (for the audit trail)",
    field: "reason",
    when: "live",
  },
  { method: "resumeTenant", label: "Resume", when: "suspended" },
  { method: "deleteTenant", label: "Delete", confirm: true },
] as const;

// Tenant.suspended comes with the same part of the contract: read it by name.
const isSuspended = (tenant: Tenant) =>
  (tenant as unknown as { suspended?: boolean }).suspended === true;
const hasStatus = TenantSchema.fields.some((f) => f.localName === "suspended");

function tenantTable(
  tenants: Tenant[],
  select: (t: Tenant) => void,
  ctx: PageContext,
  changed: () => void,
): HTMLElement {
  const body = h("tbody");
  for (const tenant of tenants) {
    const actions = h("td", { class: "actions" });
    if (isOperator(ctx.session)) {
      for (const action of lifecycle) {
        if (!hasMethods(action.method)) continue;
        if ("when" in action && (action.when === "suspended") !== isSuspended(tenant)) continue;
        const button = h("button", { type: "button", class: "link" }, action.label);
        button.addEventListener("click", async (event) => {
          event.stopPropagation();
          const request: Record<string, string> = { tenantId: tenant.id };
          if ("ask" in action) {
            const value = prompt(action.ask, action.field === "name" ? tenant.name : "");
            if (value === null) return;
            request[action.field] = value;
          }
          if ("confirm" in action && !confirm(`${action.label} ${tenant.name}?`)) return;
          try {
            await callByName(action.method, request);
            changed();
          } catch (err) {
            ctx.notify(`${action.label} failed: ${describeError(err)}`, "error");
          }
        });
        actions.append(button);
      }
    }
    const row = h(
      "tr",
      { "data-tenant": tenant.id },
      h("td", {}, tenant.name),
      h("td", {}, h("code", {}, tenant.id)),
      h(
        "td",
        {},
        formatTime(tenant.createdAt === undefined ? undefined : timestampMs(tenant.createdAt)),
      ),
      hasStatus ? h("td", {}, isSuspended(tenant) ? "suspended" : "live") : null,
      actions,
    );
    row.addEventListener("click", () => select(tenant));
    body.append(row);
  }
  return h(
    "table",
    { class: "table clickable", "data-testid": "tenants" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...["Name", "Id", "Created", ...(hasStatus ? ["Status"] : []), ""].map((t) =>
          h("th", {}, t),
        ),
      ),
    ),
    body,
  );
}
