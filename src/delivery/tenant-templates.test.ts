import { describe, expect, it } from "vitest";
import { createTemplates } from "./templates.js";

const style = (brandName: string, entries: [string, string, string?][] = []) => ({
  brandName,
  templates: new Map(
    entries.map(([key, text, subject]) => [key, { text, subject: subject ?? "" }]),
  ),
});

describe("tenant templates", () => {
  const templates = createTemplates();

  it("uses the tenant's template for the channel and locale, with its brand", () => {
    const rendered = templates.render("sms", {
      code: "4930",
      ttlSeconds: 300,
      locale: "de-AT",
      style: style("Acme", [["sms/de", "{{brand}}: Code {{code}}, {{lifetime}} gültig"]]),
    });
    expect(rendered).toEqual({ text: "Acme: Code 4930, 5 Minuten gültig", locale: "de" });
  });

  it("falls back to the tenant's default locale, then its SMS text, then the service's", () => {
    const own = style("Acme", [["sms/", "{{code}} is your Acme code"]]);
    expect(
      templates.render("whatsapp", { code: "1", ttlSeconds: 60, locale: "fr", style: own }).text,
    ).toBe("1 is your Acme code");
    // The outbox stands in for SMS.
    expect(templates.render("outbox", { code: "2", ttlSeconds: 60, style: own }).text).toBe(
      "2 is your Acme code",
    );
    const onlyEmail = style("Acme", [["email/", "Code {{code}}", "Your Acme code"]]);
    expect(templates.render("sms", { code: "3", ttlSeconds: 60, style: onlyEmail }).text).toBe(
      "Acme: Your verification code is 3. It expires in 1 minute. Never share it with anyone.",
    );
  });

  it("renders a tenant's email with its subject and the text as HTML, escaped", () => {
    const rendered = templates.render("email", {
      code: "<9>",
      ttlSeconds: 60,
      style: style("A&B", [["email/", "{{brand}} code\n{{code}}", "{{brand}} sign-in"]]),
    });
    expect(rendered.subject).toBe("A&B sign-in");
    expect(rendered.html).toBe("<p>A&amp;B code<br>&lt;9&gt;</p>");
  });

  it("leads the service's text with the brand when the tenant has no templates", () => {
    const rendered = templates.render("email", {
      code: "5",
      ttlSeconds: 60,
      style: style("Globex"),
    });
    expect(rendered.subject).toBe("Globex: 5 is your verification code");
    expect(rendered.text.startsWith("Globex: Your verification code is 5.")).toBe(true);
  });
});
