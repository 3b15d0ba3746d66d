import type { RateLimit } from "../store/store.js";

const unitMs = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

const maxPoints = 1_000_000;
const minWindowMs = unitMs.s;
const maxWindowMs = 24 * unitMs.h;

// <count>/<n><unit>, the n optional; spaces allowed around every part.
const limitPattern = /^\s*(\d+)\s*\/\s*(\d*)\s*([smh])\s*$/;

const acceptedForm =
  'must be <count>/<window> such as 10/1m, 60/m, 5/1h or 100/30s (count 1 to 1000000, window 1s to 24h), or "off"';

/**
 * Parses a rate limit written `<count>/<window>`, where the window is a number
 * followed by `s`, `m` or `h` (a bare unit means one of it), or the word `off`.
 * Throws an Error saying what is accepted; the caller adds the variable name.
 *
 * @example
 * parseLimit("10/1m"); // { points: 10, windowMs: 60_000 }
 * parseLimit("60/m"); // { points: 60, windowMs: 60_000 }
 * parseLimit("off"); // "off"
 */
export function parseLimit(text: string): RateLimit | "off" {
  if (text.trim() === "off") return "off";
  const match = limitPattern.exec(text);
  if (match === null) throw new Error(`${acceptedForm}, got "${text}"`);
  const [, count = "", amount = "", unit = "s"] = match;
  const points = Number(count);
  const windowMs = (amount === "" ? 1 : Number(amount)) * unitMs[unit as keyof typeof unitMs];
  if (points < 1 || points > maxPoints || windowMs < minWindowMs || windowMs > maxWindowMs) {
    throw new Error(`${acceptedForm}, got "${text}"`);
  }
  return { points, windowMs };
}
