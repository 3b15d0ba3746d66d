// System health: store nodes, providers, workers, version and uptime, from
// GetSystemHealth (added by another part of the contract). Hidden until it exists.
import { callByName, describeError, hasMethods, isSignedOut } from "../api.js";
import { h, replace } from "../dom.js";
import { renderJson } from "../json-view.js";
import type { ConsolePage } from "../page.js";

/** The health page. */
export const healthPage: ConsolePage = {
  id: "health",
  title: "Health",
  available: () => hasMethods("getSystemHealth"),
  render(root, ctx) {
    const body = h("div", { class: "panel", "data-testid": "health" });
    replace(root, h("h1", {}, "Health"), body);
    const load = async () => {
      try {
        replace(body, renderJson(await callByName("getSystemHealth", {})));
      } catch (err) {
        if (isSignedOut(err)) ctx.signedOut();
        else ctx.notify(`Could not read health: ${describeError(err)}`, "error");
      }
    };
    void load();
    const timer = setInterval(load, 10_000);
    return () => clearInterval(timer);
  },
};
