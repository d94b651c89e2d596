/** Durations in policies: 30s, 15min, 12h, 30d, 2w, 6m (calendar months), 1y. */
export type DurationUnit = 's' | 'min' | 'h' | 'd' | 'w' | 'm' | 'y';
export interface Duration {
  amount: number;
  unit: DurationUnit;
  text: string;
}

const DURATION_PATTERN = /^(\d{1,5})(s|min|h|d|w|m|y)$/;

export function parseDuration(text: string): Duration | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  if (amount <= 0) return undefined;
  return { amount, unit: match[2] as DurationUnit, text: text.trim() };
}

const FIXED_MS: Record<Exclude<DurationUnit, 'm' | 'y'>, number> = {
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * Adds (or with sign -1 subtracts) a duration. Months and years are calendar months in UTC,
 * clamped to the month's last day: 31 Jan + 1m is 28/29 Feb, as an operator reads "monthly".
 */
export function addDuration(date: Date, duration: Duration, sign: 1 | -1 = 1): Date {
  if (duration.unit === 'm' || duration.unit === 'y') {
    const months = (duration.unit === 'y' ? 12 : 1) * duration.amount * sign;
    const result = new Date(date.getTime());
    const day = result.getUTCDate();
    result.setUTCDate(1);
    result.setUTCMonth(result.getUTCMonth() + months);
    const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
    result.setUTCDate(Math.min(day, lastDay));
    return result;
  }
  return new Date(date.getTime() + sign * duration.amount * FIXED_MS[duration.unit]);
}

/** Approximate length in milliseconds (months as 30 days), for timeouts and sorting only. */
export function durationMs(duration: Duration): number {
  if (duration.unit === 'm') return duration.amount * 30 * FIXED_MS.d;
  if (duration.unit === 'y') return duration.amount * 365 * FIXED_MS.d;
  return duration.amount * FIXED_MS[duration.unit];
}

/** Whole days from `from` to `to`, rounded down (negative when `to` is in the past). */
export function daysBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / FIXED_MS.d);
}

/** Parses an --as-of / --on date: YYYY-MM-DD (midnight UTC) or a full ISO timestamp. */
export function parseDate(text: string): Date | undefined {
  const trimmed = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) {
    const date = new Date(`${trimmed}T00:00:00Z`);
    return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== trimmed ? undefined : date;
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) {
    const date = new Date(trimmed);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

export function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
