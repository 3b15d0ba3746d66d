/** The number of hash slots of a Redis Cluster. */
export const clusterSlotCount = 16384;

/**
 * The Cluster hash slot of a key, as Redis computes it: CRC16 (XMODEM) of the
 * key, or of its hash tag (the text between the first `{` and the next `}`,
 * when not empty), modulo 16384.
 *
 * @example
 * clusterSlotOf("foo"); // 12182
 * clusterSlotOf("otp:challenge:{abc}") === clusterSlotOf("abc"); // true
 */
export function clusterSlotOf(key: string): number {
  let hashed = key;
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(hashed, "utf8")) % clusterSlotCount;
}

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}
