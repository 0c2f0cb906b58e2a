/**
 * Event time from a record field, in epoch milliseconds. The rule, in order:
 * - a number (or a string of one) below 100,000,000,000 is epoch seconds, fractions kept;
 *   anything larger is epoch milliseconds. 1e11 seconds is the year 5138 and 1e11 ms is
 *   1973-03-03, so both readings of real timestamps fall on their own side;
 * - a string in ISO-8601 form (`2024-05-01`, `2024-05-01T12:00:00`, with optional
 *   fraction and `Z` or `±hh:mm`) is that instant; without a zone it is UTC, not local time;
 * - anything else is not a time: the record fails with reason `time`.
 */
export const SECONDS_BELOW = 1e11;

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const NUMBER = /^-?\d+(?:\.\d+)?$/;

export function readEventTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? fromNumber(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (NUMBER.test(text)) return fromNumber(Number(text));
  const match = ISO.exec(text);
  if (!match) return undefined;
  let iso = text.replace(' ', 'T').replace(',', '.');
  if (match[1] === undefined) iso += iso.includes('T') ? 'Z' : 'T00:00:00Z';
  else if (/^[+-]\d{2}$/.test(match[1])) iso += ':00';
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

function fromNumber(n: number): number {
  return Math.abs(n) < SECONDS_BELOW ? Math.round(n * 1000) : n;
}
