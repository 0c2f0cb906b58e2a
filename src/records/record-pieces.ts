import type { ChunkResult } from './chunk.js';

/** A perRecord result's output, one piece per `outLines` entry, unpacked if it came packed. */
export function recordPieces(result: ChunkResult): Array<string | ArrayBuffer | Uint8Array> {
  const lengths = result.packed;
  if (!lengths) return result.out;
  const whole = result.out[0] ?? '';
  const text = typeof whole === 'string' ? whole : pieceText(whole);
  const pieces: string[] = [];
  let at = 0;
  for (const length of lengths) {
    pieces.push(text.slice(at, at + length));
    at += length;
  }
  return pieces;
}

/** The same result with its pieces unpacked (for code that splices pieces of several results). */
export function unpacked(result: ChunkResult): ChunkResult {
  return result.packed ? { ...result, out: recordPieces(result), packed: undefined } : result;
}

/** The text of a piece of output. */
export function pieceText(piece: string | ArrayBuffer | Uint8Array): string {
  return typeof piece === 'string' ? piece : pieceBytes(piece).toString('utf8');
}

/** The UTF-8 bytes of a piece of output, as a Buffer over the same memory where it is bytes already. */
export function pieceBytes(piece: string | ArrayBuffer | Uint8Array): Buffer {
  if (typeof piece === 'string') return Buffer.from(piece, 'utf8');
  return piece instanceof Uint8Array ? Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength) : Buffer.from(piece);
}
