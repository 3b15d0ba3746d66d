import { hkdfSync } from "node:crypto";
import { createSecretBox } from "./secret-box.js";

/**
 * Seals a challenge's code so that Resend and fallback can send the same code
 * again while it is valid, without the code ever lying in the store in the
 * clear. Keys come from the service's HMAC secrets by HKDF under a label of
 * their own (apart from the code HMAC and the recipient keys); the current
 * secret seals, any secret opens, so a rotation loses nothing until a secret
 * is dropped, after which the next send simply gets a new code.
 */
export interface CodeSeal {
  /** The code, sealed and bound to its challenge id. */
  seal(challengeId: string, code: string): string;
  /** The code a {@link seal} of this challenge holds; undefined when no secret opens it. */
  open(challengeId: string, sealed: string): string | undefined;
}

/**
 * Creates a {@link CodeSeal} from the HMAC secrets, current first.
 *
 * @example
 * const seal = createCodeSeal(config.hmacSecrets);
 * const sealed = seal.seal(challengeId, "493027");
 * seal.open(challengeId, sealed); // "493027"
 */
export function createCodeSeal(secrets: readonly string[]): CodeSeal {
  if (secrets.length === 0) throw new Error("createCodeSeal needs at least one secret");
  const box = createSecretBox(
    secrets.map((s) => Buffer.from(hkdfSync("sha256", s, "otp-code-v1", "code-seal", 32))),
  );
  const context = (id: string) => `code:${id}`;
  return {
    seal: (id, code) => box.seal(code, context(id)),
    open(id, sealed) {
      try {
        return box.open(sealed, context(id));
      } catch {
        return undefined;
      }
    },
  };
}
