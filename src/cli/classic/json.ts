/** A message in a JSON record, as receive --json gives it: its text when valid UTF-8, else its bytes in base64. */
export function jsonContent(data: Buffer): { message: string } | { base64: string } {
  const text = data.toString('utf8');
  return Buffer.from(text).equals(data) ? { message: text } : { base64: data.toString('base64') };
}
