/**
 * CRLF input: the `\r` belongs to the line ending, not to the record. Decided here, for
 * text and for bytes, and nowhere else.
 */
export function withoutCr(text: string): string {
  return text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
}

/** The end of the line's content in `buf`, given the offset of its `\n` (or of its end). */
export function contentEnd(buf: Uint8Array, nl: number, start = 0): number {
  return nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
}

/** Length of a UTF-8 byte-order mark at `buf[start]`, else 0; a BOM belongs to the file, not to its first record. */
export function bomLength(buf: Uint8Array, start = 0): number {
  return buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf ? 3 : 0;
}
