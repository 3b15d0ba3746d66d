import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceEndpoint, startServiceForClients } from "../../test/support/test-server.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const sdkDir = path.join(root, "sdk");
const tsc = path.join(root, "node_modules/.bin/tsc");

// The SDK as a user gets it: `npm pack` (which builds it), then
// `npm install <tarball>` into an empty project outside this repository.
let scratch: string;
let service: ServiceEndpoint;
/** The tarball's files, relative to the package root (`dist/...`, `package.json`). */
let packed: string[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "otp-sdk-user-"));
  await run("npm", ["pack", "--silent", "--pack-destination", scratch], { cwd: sdkDir });
  const tarball = (await readdir(scratch)).find((f) => f.endsWith(".tgz")) ?? "";
  const { stdout: listing } = await run("tar", ["-tzf", tarball], { cwd: scratch });
  packed = listing
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.replace(/^package\//, ""));
  await writeFile(
    path.join(scratch, "package.json"),
    JSON.stringify({ name: "scratch", version: "1.0.0", private: true, type: "module" }),
  );
  await run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--silent", `./${tarball}`],
    { cwd: scratch },
  );
  service = await startServiceForClients();
}, 120_000);

afterAll(async () => {
  await service?.close();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe("the packed SDK in a fresh project", () => {
  it("ships the build and only the generated code it uses, no sources or tests", () => {
    // The build compiles what the entry points import from the repository's
    // gen/ (otp.v1 and google.rpc) into dist/gen/; nothing else of gen/ ships.
    expect(packed).toContain("dist/sdk/src/node.js");
    expect(packed).toContain("dist/sdk/src/browser.d.ts");
    expect(packed).toContain("dist/gen/otp/v1/otp_pb.js");
    expect(packed).toContain("dist/gen/google/rpc/error_details_pb.d.ts");
    const outside = packed.filter(
      (f) => !f.startsWith("dist/") && f !== "package.json" && f !== "README.md",
    );
    expect(outside).toEqual([]);
    expect(packed.filter((f) => /(^|\/)(grpc|health|reflection)(\/|_pb\.)/.test(f))).toEqual([]);
    expect(packed.filter((f) => /(^|\/)tests?\/|\.test\./.test(f))).toEqual([]);
    expect(packed.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("verifies a code from plain Node over gRPC, with typed errors", async () => {
    await writeFile(
      path.join(scratch, "app.mjs"),
      `import { createOtpClient, isOtpError, VerifyResult } from "@otp/sdk";
const otp = createOtpClient({ baseUrl: process.env.OTP_URL, protocol: "grpc" });
const { id, code } = await otp.generate({});
const { result } = await otp.verify({ id, code });
const reason = await otp.getChallenge({ id: "nope" }).catch((err) => isOtpError(err, "ID_INVALID") && err.reason);
console.log(JSON.stringify({ verified: result === VerifyResult.VERIFIED, reason }));
`,
    );
    const { stdout } = await run(process.execPath, ["app.mjs"], {
      cwd: scratch,
      env: { ...process.env, OTP_URL: service.url },
    });
    expect(JSON.parse(stdout)).toEqual({ verified: true, reason: "ID_INVALID" });
  });

  it("gives bundlers the browser build, free of Node built-ins", async () => {
    await writeFile(
      path.join(scratch, "web.mjs"),
      `import { createOtpClient } from "@otp/sdk";
export const otp = createOtpClient({ baseUrl: "https://otp.example.com", protocol: "grpc-web" });
`,
    );
    const result = await build({
      entryPoints: ["web.mjs"],
      absWorkingDir: scratch,
      bundle: true,
      write: false,
      platform: "browser",
      format: "esm",
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("node_modules/@otp/sdk/dist/sdk/src/browser.js");
    expect(inputs.some((i) => i.includes("connect-node") || i.startsWith("node:"))).toBe(false);
  });

  it("ships declarations that type-check a Node and a browser project", async () => {
    await writeFile(
      path.join(scratch, "check.ts"),
      `import { type OtpClient, createOtpClient, isOtpError, VerifyResult } from "@otp/sdk";
const otp: OtpClient = createOtpClient({ baseUrl: "http://localhost:8080", protocol: "grpc", timeoutMs: 5000 });
export async function check(id: string, code: string): Promise<number | undefined> {
  try {
    const res = await otp.verify({ id, code });
    return res.result === VerifyResult.VERIFIED ? 0 : res.attemptsRemaining;
  } catch (err) {
    if (isOtpError(err, "RATE_LIMITED")) return err.retryDelayMs;
    throw err;
  }
}
`,
    );
    await writeFile(
      path.join(scratch, "check-web.ts"),
      `import { createOtpClient } from "@otp/sdk";
createOtpClient({ baseUrl: "https://otp.example.com", protocol: "grpc-web" });
// @ts-expect-error browsers cannot speak gRPC, and the browser types say so
createOtpClient({ baseUrl: "https://otp.example.com", protocol: "grpc" });
`,
    );
    const common = ["--noEmit", "--strict", "--skipLibCheck", "--types", "", "--target", "es2022"];
    await run(
      tsc,
      [...common, "--module", "nodenext", "--moduleResolution", "nodenext", "check.ts"],
      { cwd: scratch },
    );
    await run(
      tsc,
      [
        ...common,
        ...["--module", "esnext", "--moduleResolution", "bundler", "--customConditions", "browser"],
        ...["--lib", "es2023,dom", "check-web.ts"],
      ],
      { cwd: scratch },
    );
  });
});
