/** What a code message needs to say. */
export interface CodeMessage {
  code: string;
  ttlSeconds: number;
}

/**
 * Renders the text that carries a code: the code, its lifetime and a warning
 * not to share it.
 *
 * @example
 * renderCodeText({ code: "493027", ttlSeconds: 300 });
 * // "Your verification code is 493027. It expires in 5 minutes. Never share it with anyone."
 */
export function renderCodeText(message: CodeMessage): string {
  return `Your verification code is ${message.code}. It expires in ${humanDuration(message.ttlSeconds)}. Never share it with anyone.`;
}

function humanDuration(seconds: number): string {
  if (seconds % 3600 === 0) return plural(seconds / 3600, "hour");
  if (seconds % 60 === 0) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}
