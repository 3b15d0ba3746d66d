import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createDeliveryClient } from "@otp/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceEndpoint, startServiceForClients } from "../../test/support/test-server.js";

// Runs the example the way its header says: as a script, with the SDK
// resolved through the workspace package (its TypeScript sources, via the
// `otp-sdk-source` condition, so no build is needed).
let service: ServiceEndpoint;
let example: ChildProcess;
let exampleUrl = "";

beforeAll(async () => {
  service = await startServiceForClients();
  example = spawn(
    process.execPath,
    ["--conditions=otp-sdk-source", "--import", "tsx", "sdk/examples/node-service.ts"],
    {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: { ...process.env, OTP_URL: service.url, PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let output = "";
  example.stdout?.setEncoding("utf8");
  exampleUrl = await new Promise<string>((resolve, reject) => {
    example.stdout?.on("data", (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    example.once("exit", (code) => reject(new Error(`example exited with ${code}: ${output}`)));
  });
});

afterAll(async () => {
  if (example?.exitCode === null) {
    example.kill("SIGTERM");
    await once(example, "exit");
  }
  await service?.close();
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${exampleUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("sdk/examples/node-service.ts", () => {
  it("signs a person in with the code the service emailed", async () => {
    const start = await post("/sign-in/start", { email: "grace@example.com" });
    expect(start.status).toBe(200);
    const challengeId = String(start.body.challengeId);

    const delivery = createDeliveryClient({ baseUrl: service.url, protocol: "grpc" });
    const { messages } = await delivery.listOutbox({ challengeId });
    const code = /(?<!\d)\d{6}(?!\d)/.exec(messages[0]?.text ?? "")?.[0] ?? "";
    const wrong = code === "000000" ? "111111" : "000000";

    expect(await post("/sign-in/verify", { challengeId, code: wrong })).toEqual({
      status: 401,
      body: { signedIn: false, result: "INVALID_CODE", attemptsRemaining: 4 },
    });
    expect(await post("/sign-in/verify", { challengeId, code })).toEqual({
      status: 200,
      body: { signedIn: true },
    });
    expect((await post("/sign-in/verify", { challengeId, code })).body.result).toBe(
      "ALREADY_VERIFIED",
    );
  });

  it("maps the service's typed errors to HTTP answers", async () => {
    expect((await post("/sign-in/start", { email: "not an address" })).status).toBe(400);
    expect(
      (await post("/sign-in/verify", { challengeId: crypto.randomUUID(), code: "123456" })).status,
    ).toBe(404);
  });
});
