import { randomInt } from "node:crypto";
import { wordlist } from "@scure/bip39/wordlists/english.js";

/** The alphabets a code can be drawn from. */
export type AlphabetName = "numeric" | "alphanumeric" | "words";

// Upper-case letters and digits with the look-alikes 0/O, 1/I/L removed, so a
// code read aloud or copied by hand survives.
const alphanumericSymbols = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

// BIP-39's English list: 2,048 common words, chosen so that no two are easily
// confused and the first four letters identify each word.
const words: readonly string[] = wordlist;

/** The number of words in the built-in word list. */
export const wordCount = words.length;

/** The code length used when a request leaves it at 0. */
export function defaultCodeLength(alphabet: AlphabetName): number {
  return alphabet === "words" ? 4 : 6;
}

/**
 * Draws a fresh code from `node:crypto`: `length` digits, characters or words.
 *
 * @example
 * generateCode("numeric", 6); // "493027"
 * generateCode("words", 4); // "orbit-pepper-canal-tiger"
 */
export function generateCode(alphabet: AlphabetName, length: number): string {
  switch (alphabet) {
    case "numeric":
      return draw("0123456789", length).join("");
    case "alphanumeric":
      return draw(alphanumericSymbols, length).join("");
    case "words":
      return Array.from({ length }, () => words[randomInt(words.length)]).join("-");
  }
}

function draw(symbols: string, length: number): string[] {
  return Array.from({ length }, () => symbols.charAt(randomInt(symbols.length)));
}

/**
 * Puts what a person typed into the form codes are stored in, so that spaces,
 * hyphens between groups and letter case do not make a right code wrong.
 */
export function normalizeCode(alphabet: AlphabetName, input: string): string {
  switch (alphabet) {
    case "numeric":
      return input.replace(/[\s-]/g, "");
    case "alphanumeric":
      return input.replace(/[\s-]/g, "").toUpperCase();
    case "words":
      return input
        .toLowerCase()
        .split(/[^a-z]+/)
        .filter((w) => w.length > 0)
        .join("-");
  }
}
