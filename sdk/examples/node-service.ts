/**
 * A sign-in backend in Node that verifies people with the OTP service over
 * gRPC: one endpoint sends a code by email, another checks the code the
 * person typed.
 *
 *   OTP_URL=http://127.0.0.1:8080 PORT=3000 npx tsx sdk/examples/node-service.ts
 *   curl -d '{"email":"ada@example.com"}' localhost:3000/sign-in/start
 *   curl -d '{"challengeId":"…","code":"123456"}' localhost:3000/sign-in/verify
 */
import { createServer, type IncomingMessage, type RequestListener } from "node:http";
import { pathToFileURL } from "node:url";
import { Channel, createOtpClient, isOtpError, type OtpClient, VerifyResult } from "@otp/sdk";

/** The two sign-in endpoints, answering JSON. */
export function createSignInHandler(otp: OtpClient): RequestListener {
  return async (req, res) => {
    const reply = (status: number, body: object, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      const body = await readJson(req);
      if (req.method === "POST" && req.url === "/sign-in/start") {
        const { id } = await otp.generate({
          deliveryTargets: [{ channel: Channel.EMAIL, recipient: String(body.email ?? "") }],
        });
        reply(200, { challengeId: id });
      } else if (req.method === "POST" && req.url === "/sign-in/verify") {
        const { result, attemptsRemaining } = await otp.verify({
          id: String(body.challengeId ?? ""),
          code: String(body.code ?? ""),
        });
        if (result === VerifyResult.VERIFIED) {
          reply(200, { signedIn: true }); // a real service would set its session cookie here
        } else {
          reply(401, { signedIn: false, result: VerifyResult[result], attemptsRemaining });
        }
      } else {
        reply(404, { error: "not_found" });
      }
    } catch (err) {
      if (err instanceof SyntaxError) return reply(400, { error: "invalid_json" });
      // Typed errors: branch on the reason, never on the message.
      if (isOtpError(err, "RATE_LIMITED") || isOtpError(err, "SEND_LIMIT_REACHED")) {
        const seconds = Math.ceil((err.retryDelayMs ?? 60_000) / 1000);
        reply(429, { error: "too_many_requests" }, { "retry-after": String(seconds) });
      } else if (isOtpError(err, "RECIPIENT_INVALID") || isOtpError(err, "ID_INVALID")) {
        reply(400, { error: "invalid_request" });
      } else if (isOtpError(err, "CHALLENGE_NOT_FOUND")) {
        reply(404, { error: "unknown_challenge" });
      } else {
        reply(502, { error: "verification_unavailable" });
      }
    }
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

// Run directly: listen on PORT and talk to the service at OTP_URL over gRPC.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const otp = createOtpClient({
    baseUrl: process.env.OTP_URL ?? "http://127.0.0.1:8080",
    protocol: "grpc",
    apiKey: process.env.OTP_API_KEY || undefined,
    timeoutMs: 5_000,
  });
  const server = createServer(createSignInHandler(otp));
  server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    console.log(`sign-in example listening on http://127.0.0.1:${port}`);
  });
}
