/** The longest prefix of `bytes` that fits `limit` bytes without cutting a UTF-8 character. */
export function truncateUtf8(bytes: Buffer, limit: number): Buffer {
  if (bytes.length <= limit) return bytes;
  let end = limit;
  // Back off over continuation bytes (10xxxxxx) so the cut lands before a character's first byte.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
