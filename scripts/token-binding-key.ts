// Prints a tenant's token binding key, for that tenant's backend to check
// `otp.binding_hash` in verification tokens without calling the service:
//
//   OTP_HMAC_SECRET=... npx tsx scripts/token-binding-key.ts ten_123
//
// Runs offline from the secret; the key is the tenant's alone (it confirms
// none of another tenant's bindings and does not reveal the secret). After a
// rotation of OTP_HMAC_SECRET, give the tenant the new key and let it keep the
// old one for TOKEN_TTL_SECONDS. Development callers without a key are the
// tenant "default".
import { deriveBindingKey } from "../src/tokens/binding-proof.js";

const tenantId = process.argv[2];
const secret = process.env.OTP_HMAC_SECRET;
if (tenantId === undefined || tenantId === "" || secret === undefined || secret === "") {
  console.error("usage: OTP_HMAC_SECRET=... npx tsx scripts/token-binding-key.ts <tenant-id>");
  process.exit(2);
}
console.log(deriveBindingKey(secret, tenantId).toString("base64url"));
