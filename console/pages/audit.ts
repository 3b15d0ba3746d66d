// The audit trail: ListAuditEvents with filters and paging, new entries live
// from WatchAuditEvents, and an export as JSON lines (both RPCs added by
// another part of the contract). Hidden until ListAuditEvents exists.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { callByName, describeError, hasMethods, isSignedOut, streamByName } from "../api.js";
import { h, replace } from "../dom.js";
import { firstList, isObject, summarize, timeOf } from "../json-view.js";
import { type ConsolePage, isOperator } from "../page.js";

/** The audit page. */
export const auditPage: ConsolePage = {
  id: "audit",
  title: "Audit trail",
  available: () => hasMethods("listAuditEvents"),
  render(root, ctx) {
    const tenant = h("input", {
      id: "audit-tenant",
      placeholder: "tenant id",
      disabled: !isOperator(ctx.session),
    });
    const action = h("input", { id: "audit-action", placeholder: "action prefix, e.g. key." });
    const search = h("button", { type: "submit", class: "secondary" }, "Search");
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older entries");
    const exportButton = h("button", { type: "button", class: "secondary" }, "Export JSON lines");
    const list = h("ol", { class: "feed", "data-testid": "audit-list" });
    const form = h("form", { class: "inline-form" }, tenant, action, search, exportButton);
    replace(root, h("h1", {}, "Audit trail"), form, list, more);
    const shown: JsonObject[] = [];
    let pageToken = "";
    const row = (entry: JsonObject) =>
      h(
        "li",
        { "data-action": String(entry.action ?? "") },
        h("time", {}, new Date(timeOf(entry) ?? 0).toLocaleString()),
        " ",
        h("strong", {}, String(entry.action ?? "")),
        " ",
        h("code", {}, String(entry.target ?? "")),
        " ",
        summarize(entry, ["id", "time", "action", "target"]),
      );
    // AuditFilter: the tenant, and actions by prefix ("key." finds every key action).
    const filters = (): JsonObject => ({
      filter: {
        ...(tenant.value === "" ? {} : { tenantId: tenant.value }),
        ...(action.value === "" ? {} : { actionPrefix: action.value }),
      },
    });
    const load = async (next: boolean) => {
      try {
        const page: JsonValue = await callByName("listAuditEvents", {
          ...filters(),
          ...(next ? { pageToken } : {}),
        });
        if (!next) {
          shown.length = 0;
          list.replaceChildren();
        }
        for (const entry of firstList(page)) {
          shown.push(entry);
          list.append(row(entry));
        }
        pageToken =
          isObject(page) && typeof page.nextPageToken === "string" ? page.nextPageToken : "";
        more.hidden = pageToken === "";
      } catch (err) {
        if (isSignedOut(err)) ctx.signedOut();
        else ctx.notify(`Could not read the audit trail: ${describeError(err)}`, "error");
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void load(false);
    });
    more.addEventListener("click", () => void load(true));
    exportButton.addEventListener("click", async () => {
      try {
        downloadLines(await exportLines(filters(), shown));
      } catch (err) {
        if (isSignedOut(err)) ctx.signedOut();
        else ctx.notify(`Could not export: ${describeError(err)}`, "error");
      }
    });
    void load(false);
    const live = new AbortController();
    if (hasMethods("watchAuditEvents")) {
      void (async () => {
        try {
          for await (const message of streamByName("watchAuditEvents", filters(), live.signal)) {
            const entry = isObject(message) && isObject(message.event) ? message.event : message;
            if (!isObject(entry)) continue;
            shown.unshift(entry);
            list.prepend(row(entry));
          }
        } catch (err) {
          if (!live.signal.aborted && isSignedOut(err)) ctx.signedOut();
        }
      })();
    }
    return () => live.abort();
  },
};

// The service's own export (every matching entry) when it has one, else what is shown.
async function exportLines(filters: JsonObject, shown: JsonObject[]): Promise<string[]> {
  if (!hasMethods("exportAuditEvents")) return shown.map((e) => `${JSON.stringify(e)}\n`);
  const lines: string[] = [];
  const done = new AbortController();
  for await (const chunk of streamByName("exportAuditEvents", filters, done.signal)) {
    if (isObject(chunk) && typeof chunk.jsonLines === "string") lines.push(chunk.jsonLines);
  }
  return lines;
}

function downloadLines(lines: string[]): void {
  const blob = new Blob(lines, { type: "application/x-ndjson" });
  const link = h("a", { href: URL.createObjectURL(blob), download: "audit.jsonl" });
  link.click();
  URL.revokeObjectURL(link.href);
}
