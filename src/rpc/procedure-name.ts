import type { DescMethod } from "@bufbuild/protobuf";

const names = new WeakMap<DescMethod, string>();

/**
 * A method's procedure name, `otp.v1.OtpService/Generate`, built once per
 * method: the interceptors look it up on every call, and a string built per
 * call would be a new allocation, flattened and hashed again for each map
 * lookup.
 *
 * @example
 * procedureName(req.method); // "otp.v1.OtpService/Generate"
 */
export function procedureName(method: DescMethod): string {
  let name = names.get(method);
  if (name === undefined) {
    name = `${method.parent.typeName}/${method.name}`;
    names.set(method, name);
  }
  return name;
}
