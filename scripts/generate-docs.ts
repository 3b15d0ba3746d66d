// Writes the generated reference pages: `npm run docs`.
import { writeFileSync } from "node:fs";
import { renderConfigurationDoc, renderErrorsDoc } from "./docs-reference.js";

const pages = {
  "docs/configuration.md": renderConfigurationDoc(),
  "docs/errors.md": renderErrorsDoc(),
};
for (const [path, text] of Object.entries(pages)) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  console.log(`wrote ${path}`);
}
