import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const packageJson = fileURLToPath(new URL("../../package.json", import.meta.url));

/**
 * What `npm run start:prod` gives node, entry last: the production command
 * line the Dockerfile, the bench and the compiled-service test all run.
 *
 * `from`: another checkout's package.json (the bench's A/B); this one's by default.
 *
 * @example
 * startProdArgs(); // ["--max-semi-space-size=8", ..., "dist/src/main.js"]
 */
export function startProdArgs(from: string = packageJson): string[] {
  const { scripts } = JSON.parse(readFileSync(from, "utf8")) as {
    scripts: Record<string, string>;
  };
  const words = (scripts["start:prod"] ?? "").trim().split(/\s+/);
  if (words[0] !== "node" || words.length < 2) {
    throw new Error(
      `package.json's start:prod is not a plain node command: ${scripts["start:prod"]}`,
    );
  }
  return words.slice(1);
}

/** The V8 and node flags of {@link startProdArgs}, without the preloads and the entry. */
export function startProdFlags(): string[] {
  return startProdArgs().filter((a) => a.startsWith("--") && a !== "--import");
}
