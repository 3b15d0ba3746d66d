// What every console page is: a module that says whether it can show for
// this session and this build of the contract, and renders itself.
import type { SessionInfo } from "./session.js";

/** What a page is given. */
export interface PageContext {
  session: SessionInfo;
  /** Shows a message in the console's notice bar. */
  notify(text: string, kind?: "info" | "error"): void;
  /** Called when a call finds the session gone: back to sign-in. */
  signedOut(): void;
}

/** One page of the console, shown at `#/<id>`. */
export interface ConsolePage {
  id: string;
  title: string;
  /**
   * Whether the page shows: its RPCs exist in this build of the contract
   * and the session may call them. A page whose RPCs are missing is not
   * listed, so it never shows made-up figures.
   */
  available(session: SessionInfo): boolean;
  /** Draws the page into `root`; returns what stops its timers and streams. */
  render(root: HTMLElement, ctx: PageContext): () => void;
}

/** Whether the session is the operator's (every tenant). */
export function isOperator(session: SessionInfo): boolean {
  return session.kind === "operator";
}

/** Whether the session may manage keys (the operator, or a key with the admin scope). */
export function canManage(session: SessionInfo): boolean {
  return session.kind === "operator" || session.scopes.includes("admin");
}
