import { createHash } from "node:crypto";

/** A JSON value, as carried by a `google.protobuf.Struct`. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * Hashes a binding so that equal content gives equal hashes whatever the key
 * order. No binding and an empty binding both hash to the empty string.
 *
 * @example
 * bindingHash({ a: 1, b: 2 }) === bindingHash({ b: 2, a: 1 }); // true
 */
export function bindingHash(binding: { [key: string]: JsonValue } | undefined): string {
  if (binding === undefined || Object.keys(binding).length === 0) return "";
  return createHash("sha256")
    .update(`otp-binding\0${canonicalJson(binding)}`)
    .digest("base64url");
}

/** Serialises JSON with object keys sorted at every depth. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
