/**
 * Passwordless sign-in from a web page, over gRPC-web.
 *
 * Bundle it with any bundler (esbuild, Vite, webpack): the package's
 * `browser` export condition picks the SDK build for browsers. If the page
 * and the service are on different origins, list the page's origin in the
 * service's CORS_ORIGINS.
 *
 * The page needs a form like this one:
 *
 *   <form id="sign-in">
 *     <input name="email" type="email" autocomplete="username">
 *     <input name="code" autocomplete="one-time-code" hidden>
 *     <button>Continue</button>
 *     <output name="status"></output>
 *   </form>
 *
 * and then: mountSignIn(document.querySelector("form")!, "https://otp.example.com").
 */
import { Channel, createOtpClient, isOtpError, VerifyResult } from "@otp/sdk";

/** Turns the form into a two-step sign-in: email first, then the code. */
export function mountSignIn(form: HTMLFormElement, baseUrl: string): void {
  const otp = createOtpClient({ baseUrl, protocol: "grpc-web" });
  const email = form.elements.namedItem("email") as HTMLInputElement;
  const code = form.elements.namedItem("code") as HTMLInputElement;
  const status = form.elements.namedItem("status") as HTMLOutputElement;
  let challengeId = "";

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      if (challengeId === "") {
        // Step 1: the service sends a code to the address.
        const res = await otp.generate({
          deliveryTargets: [{ channel: Channel.EMAIL, recipient: email.value }],
        });
        challengeId = res.id;
        code.hidden = false;
        status.value = `We sent a code to ${email.value}.`;
        return;
      }
      // Step 2: the person types the code; a wrong code is an answer, not an error.
      const res = await otp.verify({ id: challengeId, code: code.value });
      if (res.result === VerifyResult.VERIFIED) {
        status.value = "Signed in.";
      } else if (res.result === VerifyResult.INVALID_CODE && res.attemptsRemaining > 0) {
        status.value = `Wrong code, ${res.attemptsRemaining} attempts left.`;
      } else {
        challengeId = "";
        status.value = "That code can no longer be used. Continue to get a new one.";
      }
    } catch (err) {
      if (isOtpError(err, "RATE_LIMITED")) {
        status.value = `Too many attempts; try again in ${Math.ceil((err.retryDelayMs ?? 60_000) / 1000)} s.`;
      } else {
        status.value = "Something went wrong. Please try again.";
      }
    }
  });
}
