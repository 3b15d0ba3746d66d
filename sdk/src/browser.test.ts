import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceEndpoint, startServiceForClients } from "../../test/support/test-server.js";
import {
  type BrowserProtocol,
  createDeliveryClient,
  createOtpClient,
  isOtpError,
  VerifyResult,
} from "./browser.js";

// The browser entry only needs `fetch`, which Node has too, so its wiring is
// checked here; test/browser/ runs it in Chromium.
let server: ServiceEndpoint;

beforeAll(async () => {
  server = await startServiceForClients();
});
afterAll(async () => {
  await server?.close();
});

describe("the browser clients", () => {
  for (const protocol of ["grpc-web", "connect"] as const satisfies BrowserProtocol[]) {
    it(`verify a code and type errors over ${protocol}`, async () => {
      const otp = createOtpClient({ baseUrl: server.url, protocol });
      const { id, code } = await otp.generate({});
      expect((await otp.verify({ id, code })).result).toBe(VerifyResult.VERIFIED);
      const err = await otp.cancel({ id: "not-a-uuid" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isOtpError(err, "ID_INVALID")).toBe(true);
      const { channels } = await createDeliveryClient({
        baseUrl: server.url,
        protocol,
      }).listChannels({});
      expect(channels.length).toBeGreaterThan(0);
    });
  }

  it("refuses gRPC, which browsers cannot speak", () => {
    expect(() =>
      createOtpClient({ baseUrl: server.url, protocol: "grpc" as BrowserProtocol }),
    ).toThrow(/grpc-web/);
  });

  it("uses the fetch it is given", async () => {
    const urls: string[] = [];
    const otp = createOtpClient({
      baseUrl: server.url,
      protocol: "connect",
      fetch: (input, init) => {
        urls.push(String(input));
        return fetch(input, init);
      },
    });
    await otp.generate({});
    expect(urls).toEqual([`${server.url}/otp.v1.OtpService/Generate`]);
  });
});
