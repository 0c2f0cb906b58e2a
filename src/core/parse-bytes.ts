import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `--bytes 65536`, `64K`, `64KiB`, `1M`: binary units, as dd and split read them. */
export function parseBytes(text: string): number {
  const match = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  const value = match ? Number(match[1]) * (UNITS[match[2]!.toLowerCase()] ?? 1) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`--bytes takes a size such as 65536, 64K or 1M, got ${JSON.stringify(text)}`);
  return value;
}
