import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  markdownTable,
  renderConfigurationDoc,
  renderErrorsDoc,
} from "../../scripts/docs-reference.js";
import { configAreas, metaOf } from "../../src/config/index.js";
import { reasonCodes, reasons } from "../../src/core/reasons.js";

// The reference pages are generated from the schema and the reason table, so
// they cannot drift: when this fails, run `npm run docs` and commit the result.
const pages = [
  ["docs/configuration.md", renderConfigurationDoc],
  ["docs/errors.md", renderErrorsDoc],
] as const;

describe("generated reference pages", () => {
  it.each(pages)("%s is what `npm run docs` writes", (path, render) => {
    const committed = readFileSync(path, "utf8");
    expect(committed, `${path} is out of date: run \`npm run docs\` and commit it`).toBe(render());
  });

  it("lists every configuration variable once, with a meaning", () => {
    const names = configAreas.flatMap((area) => Object.keys(area.variables));
    expect(new Set(names).size).toBe(names.length);
    const page = renderConfigurationDoc();
    for (const area of configAreas) {
      for (const [name, variable] of Object.entries(area.variables)) {
        expect(metaOf(variable).description.length).toBeGreaterThan(0);
        expect(page).toContain(`| \`${name}\``);
      }
    }
  });

  it("lists every reason with its code and a meaning", () => {
    const page = renderErrorsDoc();
    for (const [reason, entry] of Object.entries(reasons)) {
      expect(entry.description.length).toBeGreaterThan(0);
      expect(reasonCodes[reason as keyof typeof reasons]).toBe(entry.code);
      expect(page).toContain(`| \`${reason}\``);
    }
  });
});

describe("markdownTable", () => {
  it("pads every column to its widest cell, as biome formats tables", () => {
    expect(markdownTable(["a", "bb"], [["ccccc", "é"]])).toBe(
      ["| a     | bb  |", "| ----- | --- |", "| ccccc | é   |"].join("\n"),
    );
  });
});
