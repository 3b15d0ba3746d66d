import { randomUUID } from "node:crypto";
import { generateSecret, generateURI } from "otplib";
import { boundedText } from "../core/bounded-text.js";
import type { SecretBox } from "../core/secret-box.js";
import { totpErrors } from "./errors.js";
import type { TotpStore } from "./totp-store.js";

/** The bounds of the names an enrolment stores; ':' would split the otpauth label. */
export const totpLimits = {
  accountName: { min: 1, max: 128, forbid: /:/ },
  issuer: { min: 0, max: 64, forbid: /:/ },
} as const;

/** What EnrollTotp returns. */
export interface Enrolment {
  factorId: string;
  otpauthUri: string;
  qrCodeSvg: string;
  qrCodePngDataUrl: string;
  secret: string;
  confirmBeforeMs: number;
}

/** What {@link enrollFactor} needs. */
export interface EnrolDeps {
  store: Pick<TotpStore, "createTotpFactor">;
  box: SecretBox;
  /** The issuer of an enrolment that names none. */
  defaultIssuer: string;
  /** How long a pending factor waits for ConfirmTotp, in seconds. */
  pendingSeconds: number;
  now: () => number;
}

/**
 * Stores a pending factor with a fresh secret, sealed, and returns the secret
 * with the otpauth URI and QR codes to scan it; ConfirmTotp activates it.
 */
export async function enrollFactor(
  deps: EnrolDeps,
  input: { accountName: string; issuer: string },
): Promise<Enrolment> {
  const { store, box, now } = deps;
  const accountName = boundedText(input.accountName, totpLimits.accountName);
  if (accountName === undefined) throw totpErrors.accountNameInvalid();
  // An empty issuer takes the configured default; a given one obeys the same bounds.
  const given = boundedText(input.issuer, totpLimits.issuer);
  if (given === undefined) throw totpErrors.issuerInvalid();
  const issuer = given === "" ? deps.defaultIssuer : given;
  const id = randomUUID();
  const secret = generateSecret();
  const otpauthUri = generateURI({ issuer, label: accountName, secret });
  const createdAtMs = now();
  const confirmBeforeMs = createdAtMs + deps.pendingSeconds * 1000;
  await store.createTotpFactor({
    id,
    accountName,
    issuer,
    sealedSecret: box.seal(secret, id),
    state: "pending",
    createdAtMs,
    lastUsedStep: -1,
    failures: 0,
    lockedUntilMs: 0,
    recoveryHashes: [],
    retainUntilMs: confirmBeforeMs,
  });
  // Loaded on the first enrolment: QR rendering is rare, and its memory is not small.
  const { default: QRCode } = await import("qrcode");
  const [qrCodeSvg, qrCodePngDataUrl] = await Promise.all([
    QRCode.toString(otpauthUri, { type: "svg", errorCorrectionLevel: "M" }),
    QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: "M" }),
  ]);
  return { factorId: id, otpauthUri, qrCodeSvg, qrCodePngDataUrl, secret, confirmBeforeMs };
}
