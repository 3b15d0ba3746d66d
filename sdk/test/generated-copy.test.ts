import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

// buf.gen.yaml writes the generated code twice: gen/ for the service and
// sdk/src/gen/ for the published SDK. CI checks gen/ against the protos;
// this keeps the SDK's copy equal to it.
describe("sdk/src/gen", () => {
  it("is the same generated code as gen/ (run `npm run generate`)", async () => {
    const service = path.join(root, "gen");
    const sdk = path.join(root, "sdk/src/gen");
    expect(await files(sdk)).toEqual(await files(service));
    for (const file of await files(service)) {
      expect(await readFile(path.join(sdk, file), "utf8"), file).toBe(
        await readFile(path.join(service, file), "utf8"),
      );
    }
  });
});
