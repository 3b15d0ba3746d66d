// The live activity feed: WatchActivity (added by another part of the
// contract), filtered by tenant, kind and outcome. Hidden until it exists.
import type { JsonObject } from "@bufbuild/protobuf";
import { describeError, hasMethods, isSignedOut, streamByName } from "../api.js";
import { h, replace } from "../dom.js";
import { isObject, summarize, timeOf } from "../json-view.js";
import { type ConsolePage, isOperator } from "../page.js";

const maxItems = 200;

// ActivityKind, shown and filtered by its short name ("generate").
const kinds = ["generate", "verify", "delivery", "rate_limited", "admin"];
const kindOf = (event: JsonObject) =>
  String(event.kind ?? "")
    .replace(/^ACTIVITY_KIND_/, "")
    .toLowerCase();

/** The activity page. */
export const activityPage: ConsolePage = {
  id: "activity",
  title: "Activity",
  available: () => hasMethods("watchActivity"),
  render(root, ctx) {
    const tenant = h("input", {
      id: "feed-tenant",
      placeholder: "tenant id",
      disabled: !isOperator(ctx.session),
    });
    const kind = h(
      "select",
      { id: "feed-kind" },
      h("option", { value: "" }, "every kind"),
      ...kinds.map((k) => h("option", { value: k }, k)),
    );
    const outcome = h("input", { id: "feed-outcome", placeholder: "outcome" });
    const apply = h("button", { type: "submit", class: "secondary" }, "Filter");
    const state = h("span", { class: "muted", "data-testid": "feed-state" }, "connecting…");
    const feed = h("ol", { class: "feed", "data-testid": "feed" });
    const filters = h("form", { class: "inline-form" }, tenant, kind, outcome, apply, state);
    replace(root, h("h1", {}, "Activity"), filters, feed);
    let controller = new AbortController();
    const watch = async (signal: AbortSignal) => {
      const request: JsonObject = {};
      if (tenant.value !== "") request.tenantId = tenant.value;
      if (kind.value !== "") request.kinds = [`ACTIVITY_KIND_${kind.value.toUpperCase()}`];
      if (outcome.value !== "") request.outcomes = [outcome.value];
      try {
        state.textContent = "live";
        for await (const message of streamByName("watchActivity", request, signal)) {
          if (!isObject(message)) continue;
          const event = isObject(message.event) ? message.event : message;
          const at = timeOf(event) ?? Date.now();
          const item = h(
            "li",
            { "data-kind": kindOf(event), "data-outcome": String(event.outcome ?? "") },
            h("time", {}, new Date(at).toLocaleTimeString()),
            " ",
            h("strong", {}, kindOf(event)),
            " ",
            summarize(event, ["kind", "at"]),
          );
          feed.prepend(item);
          while (feed.children.length > maxItems) feed.lastElementChild?.remove();
        }
      } catch (err) {
        if (signal.aborted) return;
        if (isSignedOut(err)) ctx.signedOut();
        else state.textContent = `disconnected: ${describeError(err)}`;
      }
    };
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      controller.abort();
      controller = new AbortController();
      feed.replaceChildren();
      void watch(controller.signal);
    });
    void watch(controller.signal);
    return () => controller.abort();
  },
};
