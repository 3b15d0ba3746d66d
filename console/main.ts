// The operator console at /console: sign-in, then one page per view, each a
// module in pages/. It talks to the service only through /console/session
// and AdminService (see api.ts). Served by src/http/console.ts.
import { byId, h, replace } from "./dom.js";
import type { ConsolePage, PageContext } from "./page.js";
import { activityPage } from "./pages/activity.js";
import { auditPage } from "./pages/audit.js";
import { healthPage } from "./pages/health.js";
import { overviewPage } from "./pages/overview.js";
import { tenantsPage } from "./pages/tenants.js";
import { currentSession, type SessionInfo, signIn, signOut } from "./session.js";

/** Every page, in the order of the navigation. */
const pages: ConsolePage[] = [overviewPage, activityPage, tenantsPage, auditPage, healthPage];

const ui = {
  signInView: byId("sign-in"),
  signInForm: byId<HTMLFormElement>("sign-in-form"),
  credential: byId<HTMLInputElement>("credential"),
  signInButton: byId<HTMLButtonElement>("sign-in-button"),
  signInNotice: byId("sign-in-notice"),
  appView: byId("app"),
  nav: byId("nav"),
  who: byId("who"),
  signOut: byId<HTMLButtonElement>("sign-out"),
  notice: byId("notice"),
  view: byId("view"),
};

let stopPage: (() => void) | undefined;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;

function showSignIn(message = ""): void {
  stopPage?.();
  stopPage = undefined;
  ui.view.replaceChildren();
  ui.appView.hidden = true;
  ui.signInView.hidden = false;
  ui.signInNotice.textContent = message;
  ui.signInNotice.hidden = message === "";
  ui.credential.focus();
}

function notify(text: string, kind: "info" | "error" = "info"): void {
  ui.notice.textContent = text;
  ui.notice.className = `notice ${kind}`;
  ui.notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    ui.notice.hidden = true;
  }, 6000);
}

function describeWho(session: SessionInfo): string {
  if (session.kind === "operator") return "Operator · all tenants";
  return `${session.keyId} · tenant ${session.tenantId} · ${session.scopes.join(", ")}`;
}

function showApp(session: SessionInfo): void {
  ui.signInView.hidden = true;
  ui.appView.hidden = false;
  ui.who.textContent = describeWho(session);
  const shown = pages.filter((p) => p.available(session));
  replace(ui.nav, ...shown.map((p) => h("a", { href: `#/${p.id}`, "data-page": p.id }, p.title)));
  const ctx: PageContext = {
    session,
    notify,
    signedOut: () => showSignIn("Your session has ended. Sign in again."),
  };
  const route = () => {
    const id = location.hash.replace(/^#\//, "").split("?", 1)[0] ?? "";
    const page = shown.find((p) => p.id === id) ?? shown[0];
    if (page === undefined) return;
    for (const link of ui.nav.querySelectorAll("a")) {
      link.classList.toggle("active", link.getAttribute("data-page") === page.id);
    }
    stopPage?.();
    ui.view.replaceChildren();
    ui.view.setAttribute("data-page", page.id);
    stopPage = page.render(ui.view, ctx);
  };
  window.onhashchange = route;
  route();
}

ui.signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  // Read once and cleared at once: the credential stays in no field, variable or storage.
  const credential = ui.credential.value.trim();
  ui.credential.value = "";
  if (credential === "") return;
  ui.signInButton.disabled = true;
  try {
    const result = await signIn(credential);
    if ("kind" in result) {
      showApp(result);
      return;
    }
    showSignIn(
      result.reason === "bad_credential"
        ? "That credential was not accepted. Use ADMIN_TOKEN or a secret key with the admin scope."
        : result.reason === "rate_limited"
          ? `Too many attempts from this address. Try again in ${result.retryAfterSeconds} s.`
          : `Sign-in was refused (HTTP ${result.status}).`,
    );
  } catch {
    showSignIn("The service could not be reached.");
  } finally {
    ui.signInButton.disabled = false;
  }
});

ui.signOut.addEventListener("click", async () => {
  await signOut().catch(() => undefined);
  showSignIn("Signed out.");
});

currentSession()
  .then(
    (session) => (session === undefined ? showSignIn() : showApp(session)),
    () => showSignIn("The service could not be reached."),
  )
  .finally(() => {
    // For tests and screenshots: the page has decided what to show.
    document.body.dataset.ready = "true";
  });
