// Loaded from a second origin by cross-origin.test.ts: calls the service at
// `?api=` over gRPC-web and Connect with the browser SDK, as any web app
// would, and writes what happened into #result for the test to read.
import { Code, createOtpClient, isOtpError, VerifyResult } from "@otp/sdk";

interface Outcome {
  protocol: string;
  ok: boolean;
  verified?: boolean;
  errorReason?: string;
  errorCode?: string;
}

async function run(
  protocol: "grpc-web" | "connect",
  api: string,
  apiKey: string,
): Promise<Outcome> {
  // The API key becomes an Authorization header, which the preflight must allow.
  const otp = createOtpClient({
    baseUrl: api,
    protocol,
    apiKey: apiKey || undefined,
    retry: false,
  });
  try {
    const { id, code } = await otp.generate({});
    const { result } = await otp.verify({ id, code });
    const err = await otp.getChallenge({ id: "not-a-uuid" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    return {
      protocol,
      ok: true,
      verified: result === VerifyResult.VERIFIED,
      ...(isOtpError(err) ? { errorReason: err.reason, errorCode: Code[err.code] } : {}),
    };
  } catch (err) {
    return { protocol, ok: false, ...(isOtpError(err) ? { errorCode: Code[err.code] } : {}) };
  }
}

const params = new URLSearchParams(window.location.search);
const api = params.get("api") ?? "";
const key = params.get("key") ?? "";
const result = document.getElementById("result") as HTMLElement;
void Promise.all([run("grpc-web", api, key), run("connect", api, key)]).then((outcomes) => {
  result.textContent = JSON.stringify(outcomes, null, 2);
  result.dataset.done = "true";
});
