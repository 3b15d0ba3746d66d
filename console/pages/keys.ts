// A tenant's API keys: the list, a new key (its secret shown once, in the
// page only, never stored), revocation. Expiry, last use and deletion show
// once the contract has them.
import { type Timestamp, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type ApiKey,
  ApiKeyKind,
  ApiKeySchema,
  CreateApiKeyRequestSchema,
  Scope,
} from "../../gen/otp/v1/admin_pb.js";
import { admin, callByName, describeError, hasMethods, isSignedOut } from "../api.js";
import { formatTime, h, replace } from "../dom.js";
import type { PageContext } from "../page.js";

const scopeLabels: [Scope, string][] = [
  [Scope.GENERATE, "generate"],
  [Scope.VERIFY, "verify"],
  [Scope.SEND, "send"],
  [Scope.TOTP, "totp"],
  [Scope.ADMIN_READ, "admin-read"],
  [Scope.ADMIN, "admin"],
];
const scopeName = new Map(scopeLabels);

// Key expiry and last use come with another part of the contract: their
// columns show once ApiKey has the fields.
const optionalLabels: Record<string, string> = { expiresAt: "Expires", lastUsedAt: "Last used" };
const optionalColumns = Object.keys(optionalLabels).filter((name) =>
  ApiKeySchema.fields.some((f) => f.localName === name),
);

// CreateApiKeyRequest.expires_at, likewise.
const takesExpiry = CreateApiKeyRequestSchema.fields.some((f) => f.localName === "expiresAt");

const msOf = (t: Timestamp | undefined) => (t === undefined ? undefined : timestampMs(t));

/** Draws the keys of `tenantId` into `root`; returns a no-op stop. */
export function renderKeys(root: HTMLElement, tenantId: string, ctx: PageContext): () => void {
  const table = h("div", { "data-testid": "key-table" });
  const secretBox = h("div", { class: "secret-box", "data-testid": "new-secret", hidden: true });
  const load = async () => {
    try {
      const { keys } = await admin.listApiKeys({ tenantId });
      replace(table, keyTable(keys, ctx, load));
      table.dataset.loaded = String(Date.now());
    } catch (err) {
      if (isSignedOut(err)) ctx.signedOut();
      else ctx.notify(`Could not list keys: ${describeError(err)}`, "error");
    }
  };
  replace(
    root,
    h("h3", {}, "API keys"),
    secretBox,
    createKeyForm(tenantId, ctx, secretBox, load),
    table,
  );
  void load();
  return () => {
    // The secret leaves the page with it.
    secretBox.replaceChildren();
  };
}

function createKeyForm(
  tenantId: string,
  ctx: PageContext,
  secretBox: HTMLElement,
  created: () => void,
): HTMLElement {
  const name = h("input", {
    id: "key-name",
    name: "name",
    maxlength: "100",
    placeholder: "checkout-backend",
  });
  const kind = h(
    "select",
    { id: "key-kind", name: "kind" },
    h("option", { value: "secret" }, "Secret (server)"),
    h("option", { value: "publishable" }, "Publishable (browser)"),
  );
  const origins = h("input", {
    id: "key-origins",
    name: "origins",
    placeholder: "https://shop.example.com",
    disabled: true,
  });
  const boxes = scopeLabels.map(([scope, label]) => {
    const box = h("input", {
      type: "checkbox",
      name: "scope",
      value: String(scope),
      id: `scope-${label}`,
      checked: scope === Scope.GENERATE || scope === Scope.VERIFY,
    });
    return { scope, box, label: h("label", { class: "check" }, box, ` ${label}`) };
  });
  const expiry = h("input", { id: "key-expiry", name: "expiry", type: "date" });
  kind.addEventListener("change", () => {
    origins.disabled = kind.value !== "publishable";
  });
  const form = h(
    "form",
    { class: "stack-form", id: "create-key" },
    h(
      "div",
      { class: "row" },
      h("label", { for: "key-name" }, "Name"),
      name,
      h("label", { for: "key-kind" }, "Kind"),
      kind,
    ),
    h("div", { class: "row scopes" }, h("span", {}, "Scopes"), ...boxes.map((b) => b.label)),
    h("div", { class: "row" }, h("label", { for: "key-origins" }, "Origins"), origins),
    takesExpiry
      ? h(
          "div",
          { class: "row" },
          h("label", { for: "key-expiry" }, "Expires (end of day, UTC)"),
          expiry,
        )
      : null,
    h("button", { class: "primary", type: "submit", id: "create-key-button" }, "Create key"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const expiresAt =
        takesExpiry && expiry.value !== ""
          ? { expiresAt: timestampFromMs(Date.parse(`${expiry.value}T23:59:59Z`)) }
          : {};
      const request = {
        tenantId,
        name: name.value.trim(),
        kind: kind.value === "publishable" ? ApiKeyKind.PUBLISHABLE : ApiKeyKind.SECRET,
        scopes: boxes.filter((b) => b.box.checked).map((b) => b.scope),
        allowedOrigins: origins.disabled
          ? []
          : origins.value
              .split(",")
              .map((o) => o.trim())
              .filter((o) => o !== ""),
      };
      const res = await admin.createApiKey(Object.assign(request, expiresAt));
      name.value = "";
      showSecretOnce(secretBox, res.key?.id ?? "", res.secret);
      created();
    } catch (err) {
      if (isSignedOut(err)) ctx.signedOut();
      else ctx.notify(`Could not create the key: ${describeError(err)}`, "error");
    }
  });
  return form;
}

// The one time the secret is visible: in the page's DOM until dismissed, never in storage.
function showSecretOnce(box: HTMLElement, keyId: string, secret: string): void {
  const value = h("code", { class: "secret", "data-testid": "secret-value" }, secret);
  const copy = h("button", { type: "button", class: "secondary" }, "Copy");
  copy.addEventListener("click", () => {
    void navigator.clipboard?.writeText(secret).then(() => {
      copy.textContent = "Copied";
    });
  });
  const done = h(
    "button",
    { type: "button", class: "primary", "data-testid": "secret-dismiss" },
    "I have stored it",
  );
  done.addEventListener("click", () => {
    box.replaceChildren();
    box.hidden = true;
  });
  replace(
    box,
    h(
      "p",
      {},
      h("strong", {}, `Key ${keyId} created.`),
      " Copy its secret now: it is shown this once and cannot be read again.",
    ),
    h("div", { class: "row" }, value, copy, done),
  );
  box.hidden = false;
}

function keyTable(keys: ApiKey[], ctx: PageContext, changed: () => void): HTMLElement {
  const body = h("tbody");
  const canDelete = hasMethods("deleteApiKey");
  for (const key of keys) {
    const revoked = key.revokedAt !== undefined;
    const actions = h("td", { class: "actions" });
    if (!revoked)
      actions.append(
        confirmButton(
          "Revoke",
          `revoke-${key.id}`,
          async () => {
            await admin.revokeApiKey({ keyId: key.id });
            ctx.notify(`Key ${key.id} revoked.`);
          },
          ctx,
          changed,
        ),
      );
    if (canDelete)
      actions.append(
        confirmButton(
          "Delete",
          `delete-${key.id}`,
          async () => {
            await callByName("deleteApiKey", { keyId: key.id });
            ctx.notify(`Key ${key.id} deleted.`);
          },
          ctx,
          changed,
        ),
      );
    body.append(
      h(
        "tr",
        { "data-key": key.id, class: revoked ? "revoked" : undefined },
        h("td", {}, h("code", {}, key.id)),
        h("td", {}, key.name || "—"),
        h("td", {}, key.kind === ApiKeyKind.PUBLISHABLE ? "publishable" : "secret"),
        h("td", {}, key.scopes.map((s) => scopeName.get(s) ?? String(s)).join(", ")),
        h(
          "td",
          {},
          formatTime(key.createdAt === undefined ? undefined : timestampMs(key.createdAt)),
        ),
        h(
          "td",
          { "data-testid": "key-status" },
          revoked ? `revoked ${formatTime(msOf(key.revokedAt))}` : "live",
        ),
        ...optionalColumns.map((field) =>
          h(
            "td",
            {},
            formatTime(msOf((key as unknown as Record<string, Timestamp | undefined>)[field])),
          ),
        ),
        actions,
      ),
    );
  }
  if (keys.length === 0)
    body.append(
      h(
        "tr",
        {},
        h("td", { colspan: String(7 + optionalColumns.length), class: "muted" }, "No keys yet."),
      ),
    );
  return h(
    "table",
    { class: "table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...[
          "Id",
          "Name",
          "Kind",
          "Scopes",
          "Created",
          "Status",
          ...optionalColumns.map((f) => optionalLabels[f]),
          "",
        ].map((t) => h("th", {}, t)),
      ),
    ),
    body,
  );
}

// A destructive action asks once more in place (no blocking dialog).
function confirmButton(
  label: string,
  testId: string,
  run: () => Promise<void>,
  ctx: PageContext,
  changed: () => void,
): HTMLElement {
  const button = h(
    "button",
    { type: "button", class: "link danger", "data-testid": testId },
    label,
  );
  let armed = false;
  button.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      button.textContent = `Confirm ${label.toLowerCase()}`;
      return;
    }
    button.disabled = true;
    try {
      await run();
      changed();
    } catch (err) {
      if (isSignedOut(err)) ctx.signedOut();
      else ctx.notify(`${label} failed: ${describeError(err)}`, "error");
      button.disabled = false;
    }
  });
  return button;
}
