// humantime-style durations, as the crate's configuration writes them (`30s`, `10m`, `1h 30m`).

const UNITS: Record<string, number> = {
  nsec: 1e-6,
  ns: 1e-6,
  usec: 1e-3,
  us: 1e-3,
  msec: 1,
  ms: 1,
  seconds: 1000,
  second: 1000,
  sec: 1000,
  secs: 1000,
  s: 1000,
  minutes: 60_000,
  minute: 60_000,
  min: 60_000,
  mins: 60_000,
  m: 60_000,
  hours: 3_600_000,
  hour: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  h: 3_600_000,
  days: 86_400_000,
  day: 86_400_000,
  d: 86_400_000,
  weeks: 604_800_000,
  week: 604_800_000,
  w: 604_800_000,
  months: 2_630_016_000,
  month: 2_630_016_000,
  M: 2_630_016_000,
  years: 31_557_600_000,
  year: 31_557_600_000,
  y: 31_557_600_000,
};

/**
 * Parses a humantime-style duration (`30s`, `10m`, `1h 30m`, `250ms`, `2days`) into milliseconds. Each part
 * is an unsigned integer followed by a unit; parts may be separated by whitespace.
 * @throws RangeError for an empty string, a missing or unknown unit, or a non-integer number.
 * @example
 * ```ts
 * parseHumantimeDuration('1h 30m'); // 5_400_000
 * ```
 */
export function parseHumantimeDuration(text: string): number {
  if (typeof text !== 'string') throw new TypeError('duration must be a string');
  const trimmed = text.trim();
  if (trimmed === '') throw new RangeError('duration is empty');
  const part = /([0-9]+)\s*([A-Za-z]+)\s*/y;
  let total = 0;
  let position = 0;
  while (position < trimmed.length) {
    part.lastIndex = position;
    const match = part.exec(trimmed);
    if (!match) throw new RangeError(`invalid duration "${text}": expected <integer><unit>`);
    const unit = UNITS[match[2]!];
    if (unit === undefined) throw new RangeError(`invalid duration "${text}": unknown unit "${match[2]}"`);
    total += Number(match[1]) * unit;
    position = part.lastIndex;
  }
  if (!Number.isFinite(total)) throw new RangeError(`invalid duration "${text}": too large`);
  return total;
}
