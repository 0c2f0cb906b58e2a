import { UsageError } from '../core/errors.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `1m`, `1.5h`, `2d`, or a plain number of milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  const ms = match ? Number(match[1]) * (DURATION_UNITS[(match[2] ?? 'ms').toLowerCase()] ?? NaN) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`${flag} takes a duration such as 500ms, 30s, 1m, 1h or 1d, got ${JSON.stringify(text)}`);
  return Math.round(ms);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
};

/** `512MiB`, `200MB`, `1G`: K, M, G and KiB, MiB, GiB are binary; KB, MB, GB decimal, as SI writes them. */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '?').toLowerCase()];
  const bytes = match && unit !== undefined ? Math.round(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new UsageError(`${flag} takes a size such as 512MiB, 200MB or 1G, got ${JSON.stringify(text)}`);
  return bytes;
}
