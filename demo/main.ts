// The sign-in page at /demo: the browser SDK over gRPC-web, same origin as
// the service. Served only in development (see src/http/demo.ts).
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  Channel,
  createDeliveryClient,
  createOtpClient,
  createTransport,
  isOtpError,
  type OutboxMessage,
  VerifyResult,
} from "../sdk/src/browser.js";
import {
  errorNotice,
  formatDuration,
  formatWait,
  invalidRecipientText,
  type Notice,
  type ParsedRecipient,
  parseRecipient,
  verifyNotice,
} from "./messages.js";

const transport = createTransport({ baseUrl: window.location.origin, protocol: "grpc-web" });
const otp = createOtpClient(transport);
const delivery = createDeliveryClient(transport);

// Optional knobs for trying the unhappy paths: /demo?ttl=5&attempts=2.
const params = new URLSearchParams(window.location.search);
const ttlSeconds = Number(params.get("ttl") ?? 0) || 0;
const maxAttempts = Number(params.get("attempts") ?? 0) || 0;

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

const ui = {
  steps: document.querySelectorAll<HTMLElement>("[data-step]"),
  identifyForm: byId<HTMLFormElement>("identify-form"),
  recipient: byId<HTMLInputElement>("recipient"),
  sendCode: byId<HTMLButtonElement>("send-code"),
  channelHint: byId("channel-hint"),
  changeRecipient: byId<HTMLButtonElement>("change-recipient"),
  sentTo: byId("sent-to"),
  sentVia: byId("sent-via"),
  verifyForm: byId<HTMLFormElement>("verify-form"),
  code: byId<HTMLInputElement>("code"),
  verifyCode: byId<HTMLButtonElement>("verify-code"),
  expiry: byId("expiry"),
  resend: byId<HTMLButtonElement>("resend"),
  signedInAs: byId("signed-in-as"),
  signOut: byId<HTMLButtonElement>("sign-out"),
  notice: byId("notice"),
  noticeText: byId("notice-text"),
  noticeAction: byId<HTMLButtonElement>("notice-action"),
  outbox: byId("outbox"),
  outboxList: byId<HTMLOListElement>("outbox-list"),
  outboxEmpty: byId("outbox-empty"),
};

interface Challenge {
  id: string;
  recipient: ParsedRecipient;
  expiresAt: number;
  resendAt: number;
}

let challenge: Challenge | undefined;
let notice: Notice | undefined;
let outboxAvailable = false;
let busy = false;

type Step = "identify" | "verify" | "done";

function show(step: Step): void {
  for (const element of ui.steps) element.hidden = element.dataset.step !== step;
  document.body.dataset.currentStep = step;
}

function setNotice(next: Notice | undefined): void {
  notice = next;
  renderNotice();
}

function renderNotice(): void {
  if (notice === undefined) {
    ui.notice.hidden = true;
    return;
  }
  const remaining = (notice.until ?? 0) - Date.now();
  if (notice.text.includes("{wait}") && remaining <= 0) {
    notice = { kind: "info", text: "You can try again now." };
  }
  ui.notice.hidden = false;
  ui.notice.dataset.kind = notice.kind;
  ui.noticeText.textContent = notice.text.replace("{wait}", formatWait(remaining));
  ui.noticeAction.hidden = notice.action === undefined;
  ui.noticeAction.textContent = notice.action === "restart" ? "Start over" : "Send a new code";
}

function setBusy(value: boolean): void {
  busy = value;
  ui.sendCode.disabled = value;
  ui.verifyCode.disabled = value;
  ui.sendCode.textContent = value ? "Sending…" : "Send code";
  renderTimers();
}

/** Asks for a code for the recipient: a new challenge, sent over its channel. */
async function sendCode(recipient: ParsedRecipient): Promise<void> {
  setBusy(true);
  try {
    const res = await otp.generate({
      ttlSeconds,
      maxAttempts,
      deliveryTargets: [recipient.target],
    });
    const viaOutbox = res.deliveryAttempts.some((attempt) => attempt.viaOutbox);
    challenge = {
      id: res.id,
      recipient,
      expiresAt: res.expiresAt ? timestampMs(res.expiresAt) : Date.now(),
      resendAt: res.resendAvailableAt ? timestampMs(res.resendAvailableAt) : Date.now(),
    };
    ui.sentTo.textContent = recipient.target.recipient;
    ui.sentVia.textContent = viaOutbox ? " (see the developer outbox)" : "";
    ui.code.value = "";
    ui.code.removeAttribute("aria-invalid");
    setNotice(undefined);
    // Show "Code expired" on the dot, not up to a second late.
    setTimeout(renderTimers, challenge.expiresAt - Date.now() + 10);
    // The outbox first, so the panel never shows an older code next to this step.
    await refreshOutbox();
    show("verify");
    ui.code.focus();
  } catch (err) {
    setNotice(errorNotice(err, Date.now()));
  } finally {
    setBusy(false);
  }
}

async function verifyCode(code: string): Promise<void> {
  if (challenge === undefined) return;
  if (code === "") {
    ui.code.setAttribute("aria-invalid", "true");
    setNotice({ kind: "error", text: "Enter the code we sent you." });
    return;
  }
  setBusy(true);
  try {
    const res = await otp.verify({ id: challenge.id, code });
    if (res.result === VerifyResult.VERIFIED) {
      ui.signedInAs.textContent = challenge.recipient.target.recipient;
      challenge = undefined;
      setNotice(undefined);
      show("done");
      void refreshOutbox();
      return;
    }
    ui.code.setAttribute("aria-invalid", "true");
    ui.code.select();
    setNotice(verifyNotice(res));
  } catch (err) {
    setNotice(errorNotice(err, Date.now()));
  } finally {
    setBusy(false);
  }
}

async function resendCode(): Promise<void> {
  if (challenge === undefined) return;
  setBusy(true);
  try {
    const res = await otp.resend({ id: challenge.id });
    challenge.expiresAt = res.expiresAt ? timestampMs(res.expiresAt) : challenge.expiresAt;
    challenge.resendAt = res.resendAvailableAt
      ? timestampMs(res.resendAvailableAt)
      : challenge.resendAt;
    ui.code.value = "";
    ui.code.removeAttribute("aria-invalid");
    setNotice({ kind: "success", text: "We sent you a new code." });
    await refreshOutbox();
  } catch (err) {
    if (isOtpError(err, "RESEND_COOLDOWN") && err.retryDelayMs !== undefined) {
      challenge.resendAt = Date.now() + err.retryDelayMs;
    }
    setNotice(errorNotice(err, Date.now()));
  } finally {
    setBusy(false);
  }
}

function restart(): void {
  challenge = undefined;
  setNotice(undefined);
  void refreshOutbox();
  show("identify");
  ui.recipient.focus();
  ui.recipient.select();
}

/** Updates the expiry and resend countdowns, once a second. */
function renderTimers(): void {
  if (challenge !== undefined) {
    const left = challenge.expiresAt - Date.now();
    ui.expiry.textContent = left > 0 ? `Code expires in ${formatDuration(left)}` : "Code expired";
    ui.expiry.dataset.expired = String(left <= 0);
    const wait = challenge.resendAt - Date.now();
    ui.resend.disabled = busy || wait > 0;
    ui.resend.textContent = wait > 0 ? `Resend code in ${formatDuration(wait)}` : "Resend code";
  }
  if (notice?.until !== undefined) renderNotice();
}

/** Shows the newest outbox messages: the current recipient's, or everyone's between sign-ins. */
async function refreshOutbox(): Promise<void> {
  if (!outboxAvailable) return;
  const recipient = challenge?.recipient.target.recipient ?? "";
  try {
    const { messages } = await delivery.listOutbox({ pageSize: 5, recipient });
    renderOutbox(messages);
  } catch (err) {
    if (isOtpError(err, "OUTBOX_DISABLED")) {
      outboxAvailable = false;
      ui.outbox.hidden = true;
    }
  }
}

function renderOutbox(messages: OutboxMessage[]): void {
  ui.outboxEmpty.hidden = messages.length > 0;
  ui.outboxList.replaceChildren(
    ...messages.map((message, index) => {
      const item = document.createElement("li");
      item.className = "outbox-item";
      item.dataset.testid = "outbox-message";
      item.dataset.challengeId = message.challengeId;
      const head = document.createElement("header");
      const channel = document.createElement("span");
      channel.className = "channel";
      channel.textContent = `${channelName(message.channel)} to ${message.recipient}`;
      const time = document.createElement("time");
      const at = message.createdAt ? new Date(timestampMs(message.createdAt)) : new Date();
      time.dateTime = at.toISOString();
      time.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      head.append(channel, time);
      const text = document.createElement("p");
      // The page asks for numeric codes, whatever the template's wording.
      const match = /(?<!\d)\d{4,10}(?!\d)/.exec(message.text);
      if (match === null) {
        text.textContent = message.text;
        item.append(head, text);
        return item;
      }
      const code = match[0];
      const before = message.text.slice(0, match.index);
      const after = message.text.slice(match.index + code.length);
      const mark = document.createElement("mark");
      mark.dataset.testid = "outbox-code";
      mark.textContent = code;
      text.append(before, mark, after);
      item.append(head, text);
      if (challenge !== undefined && message.challengeId === challenge.id && index === 0) {
        const use = document.createElement("button");
        use.type = "button";
        use.className = "link";
        use.textContent = "Use this code";
        use.addEventListener("click", () => {
          ui.code.value = code;
          ui.code.focus();
        });
        item.append(use);
      }
      return item;
    }),
  );
}

function channelName(channel: Channel): string {
  switch (channel) {
    case Channel.EMAIL:
      return "Email";
    case Channel.SMS:
      return "SMS";
    case Channel.WHATSAPP:
      return "WhatsApp";
    case Channel.TELEGRAM:
      return "Telegram";
    case Channel.TELEGRAM_GATEWAY:
      return "Telegram Gateway";
    case Channel.VOICE:
      return "Voice call";
    default:
      return "Outbox";
  }
}

/** Says how codes will travel, from what the service reports about its channels. */
async function describeChannels(): Promise<void> {
  try {
    const { channels } = await delivery.listChannels({});
    const email = channels.find((c) => c.channel === Channel.EMAIL);
    const sms = channels.find((c) => c.channel === Channel.SMS);
    const viaOutbox = [email, sms].some((c) => c?.servedByOutbox);
    ui.channelHint.textContent = viaOutbox
      ? "Development mode: codes land in the developer outbox on this page instead of a real inbox."
      : "Codes arrive by email or text message within a few seconds.";
  } catch {
    ui.channelHint.textContent = "";
  }
  try {
    await delivery.listOutbox({ pageSize: 1 });
    outboxAvailable = true;
    ui.outbox.hidden = false;
    await refreshOutbox();
  } catch {
    outboxAvailable = false;
  }
}

ui.identifyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (busy) return;
  const recipient = parseRecipient(ui.recipient.value);
  if (recipient === undefined) {
    ui.recipient.setAttribute("aria-invalid", "true");
    setNotice({ kind: "error", text: invalidRecipientText });
    return;
  }
  ui.recipient.removeAttribute("aria-invalid");
  void sendCode(recipient);
});

ui.verifyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!busy) void verifyCode(ui.code.value.trim());
});

ui.resend.addEventListener("click", () => {
  if (!busy) void resendCode();
});

ui.noticeAction.addEventListener("click", () => {
  if (notice?.action === "new-code" && challenge !== undefined) {
    void sendCode(challenge.recipient);
  } else {
    restart();
  }
});

ui.changeRecipient.addEventListener("click", restart);
ui.signOut.addEventListener("click", () => {
  ui.recipient.value = "";
  restart();
});

show("identify");
ui.recipient.focus();
setInterval(renderTimers, 1000);
// The outbox has no push channel; a light poll keeps the panel current.
setInterval(() => {
  if (challenge !== undefined) void refreshOutbox();
}, 3000);
void describeChannels().then(() => {
  document.body.dataset.ready = "true";
});
