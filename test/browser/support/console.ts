import type { Page } from "playwright-core";

/**
 * Driving the operator console at /console as a person does, for the browser
 * tests and `npm run screenshots`. Pages mark themselves for waiting:
 * `body[data-ready]` once the console has decided what to show,
 * `#view[data-page=<id>]` for the page shown, `[data-loaded]` on a panel
 * each time its data arrives. Later pages add their own test ids: the feed
 * is `[data-testid=feed] li[data-kind]`, the conversion tile
 * `[data-testid=conversion]`, the audit list `[data-testid=audit-list] li[data-action]`.
 */
export async function openConsole(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/console`);
  await page.locator("body[data-ready=true]").waitFor();
}

/** Signs in with a credential through the form and waits for the first page. */
export async function signInConsole(page: Page, credential: string): Promise<void> {
  await page.fill("#credential", credential);
  await page.click("#sign-in-button");
  await page.locator("#app:not([hidden])").waitFor();
  await page.locator("#view[data-page]").waitFor();
}

/** Shows a page of the console by its id (`tenants`, `overview`, `activity`, `audit`, `health`). */
export async function showPage(page: Page, id: string): Promise<void> {
  await page.click(`#nav a[data-page=${id}]`);
  await page.locator(`#view[data-page=${id}]`).waitFor();
}

/** The ids of the pages the console lists for this session and build. */
export async function listedPages(page: Page): Promise<string[]> {
  return page
    .locator("#nav a")
    .evaluateAll((links) => links.map((a) => a.getAttribute("data-page") ?? ""));
}

/** Calls an AdminService procedure from the page with only what the browser holds (cookie, no token). */
export async function callFromPage(
  page: Page,
  procedure: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<number> {
  return page.evaluate(
    async ({ procedure, body, headers }) => {
      const res = await fetch(`/otp.v1.AdminService/${procedure}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      return res.status;
    },
    { procedure, body, headers },
  );
}

/** Collects the page's Content-Security-Policy violations, which should stay empty. */
export function watchCsp(page: Page): string[] {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}
