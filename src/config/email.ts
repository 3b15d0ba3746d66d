import { type Area, text, url, type Values } from "./schema.js";

/** Email over Resend. */
export interface EmailConfig {
  apiKey: string;
  from: string;
  replyTo: string | undefined;
  baseUrl: string | undefined;
}

const address = "[^\\s@<>]+@[^\\s@<>]+\\.[^\\s@<>]+";
const needsKey = ["RESEND_API_KEY"];

/** Email over Resend: turned on by the API key. */
export const emailVariables = {
  RESEND_API_KEY: text({
    secret: true,
    defaultText: "unset (no email)",
    description: "The Resend API key; it turns email on, and needs `EMAIL_FROM`.",
  }),
  EMAIL_FROM: text({
    needs: needsKey,
    requiredWith: {
      name: "RESEND_API_KEY",
      hint: "an address on a domain verified with Resend",
    },
    pattern: new RegExp(`^([^<>\\r\\n]*<${address}>|${address})$`),
    what: 'an address like login@mail.example.com or "Example <login@mail.example.com>"',
    allowed: "`login@mail.example.com` or `Acme <login@mail.example.com>`",
    defaultText: "unset",
    description: "The sender, on a domain verified with Resend.",
  }),
  EMAIL_REPLY_TO: text({
    needs: needsKey,
    pattern: new RegExp(`^${address}$`),
    what: "an email address",
    allowed: "an email address",
    defaultText: "unset",
    description: "A Reply-To address.",
  }),
  RESEND_BASE_URL: url({
    needs: needsKey,
    defaultText: "Resend's own",
    description: "Another origin for Resend's API (a fake in tests).",
  }),
};

/** The email area of the reference. */
export const emailArea: Area = {
  title: "Email (Resend)",
  summary: "The email channel. Every variable marked so needs `RESEND_API_KEY`.",
  variables: emailVariables,
};

/** Builds email; undefined without a key and a valid sender. */
export function readEmail(v: Values<typeof emailVariables>): EmailConfig | undefined {
  if (v.RESEND_API_KEY === undefined || v.EMAIL_FROM === undefined) return undefined;
  return {
    apiKey: v.RESEND_API_KEY,
    from: v.EMAIL_FROM,
    replyTo: v.EMAIL_REPLY_TO,
    baseUrl: v.RESEND_BASE_URL,
  };
}
