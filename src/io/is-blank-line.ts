/**
 * Blank lines carry no record and take no index, in every command:
 * empty, or starting with a space, tab, CR or BOM and made only of whitespace
 * (String.prototype.trim's set, so a lone `\r` of CRLF input is blank too).
 */
export function isBlankText(text: string): boolean {
  if (text.length === 0) return true;
  const c = text.charCodeAt(0);
  if (c !== 32 && c !== 9 && c !== 13 && c !== 10 && c !== 0xfeff) return false;
  return text.trim() === '';
}

/**
 * The same test on the bytes `buf[start, end)`, without decoding ordinary lines: any first
 * byte but a space, tab, CR or 0xEF (the first byte of a BOM) decides "a record" at once,
 * which is every line of typical NDJSON (`{`, `[`, `"`, a digit). Only the rare line that
 * starts like whitespace is decoded; invalid UTF-8 decodes to U+FFFD, never blank.
 */
export function isBlankBytes(buf: Uint8Array, start: number, end: number): boolean {
  if (start === end) return true;
  const b = buf[start];
  if (b !== 32 && b !== 9 && b !== 13 && b !== 0xef) return false;
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8').trim() === '';
}
