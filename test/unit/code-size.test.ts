import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// "One function, one screen" (STYLE.md), as a rule the suite checks: no
// top-level function in src/ over 80 lines, and no module over 300 lines
// unless a comment near its top says why ("Over 300 lines because ...").
const root = join(import.meta.dirname, "../..");
const maxFunctionLines = 80;
const maxModuleLines = 300;

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** Top-level function declarations and their length, from the line that opens one to its closing brace. */
function longFunctions(text: string, max: number): { name: string; lines: number }[] {
  const lines = text.split("\n");
  const found: { name: string; lines: number }[] = [];
  lines.forEach((line, i) => {
    const name = /^(?:export )?(?:async )?function\*? (\w+)/.exec(line)?.[1];
    if (name === undefined) return;
    const end = lines.findIndex((l, j) => j > i && l === "}");
    const length = end - i + 1;
    if (end > i && length > max) found.push({ name, lines: length });
  });
  return found;
}

describe("code size in src/", () => {
  const files = sources(join(root, "src"));

  it("has no top-level function over 80 lines", () => {
    const long = files.flatMap((file) =>
      longFunctions(readFileSync(file, "utf8"), maxFunctionLines).map(
        (f) => `${relative(root, file)}: ${f.name} (${f.lines} lines)`,
      ),
    );
    expect(long).toEqual([]);
  });

  it("has no module over 300 lines without a comment saying why", () => {
    const unexplained = files
      .map((file) => ({ file, text: readFileSync(file, "utf8") }))
      .filter(({ text }) => text.split("\n").length > maxModuleLines)
      .filter(({ text }) => !/over 300 lines/i.test(text.split("\n").slice(0, 20).join("\n")))
      .map(({ file }) => relative(root, file));
    expect(unexplained).toEqual([]);
  });

  it("measures a long function the way the rule means", () => {
    const body = Array.from({ length: 90 }, () => "  step();").join("\n");
    expect(longFunctions(`export function big() {\n${body}\n}\n`, 80)).toEqual([
      { name: "big", lines: 92 },
    ]);
    expect(longFunctions("function small() {\n  return 1;\n}\n", 80)).toEqual([]);
  });
});
