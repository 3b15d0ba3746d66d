// Small DOM helpers: every text goes in through textContent, never as HTML,
// so nothing the service returns can become markup.

type Child = Node | string | number | false | null | undefined;

/**
 * Makes an element with attributes and children.
 *
 * @example
 * h("button", { type: "button", "data-testid": "revoke" }, "Revoke");
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : value);
  }
  append(element, ...children);
  return element;
}

/** Appends children, skipping empty ones. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** The element with this id; throws when the page lacks it. */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/** A date and time in the reader's locale, or a dash. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || ms === 0 || Number.isNaN(ms)) return "—";
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A whole number with thousands separators. */
export function formatCount(n: number | bigint): string {
  return Number(n).toLocaleString();
}
