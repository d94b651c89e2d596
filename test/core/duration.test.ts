import { describe, expect, it } from 'vitest';
import { addDuration, daysBetween, parseDate, parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it.each([
    ['12h', 12, 'h'],
    ['30d', 30, 'd'],
    ['2w', 2, 'w'],
    ['6m', 6, 'm'],
    ['1y', 1, 'y'],
    ['45s', 45, 's'],
    ['15min', 15, 'min'],
  ])('reads %s', (text, amount, unit) => {
    expect(parseDuration(text)).toEqual({ amount, unit, text });
  });
  it.each(['ninety', '90', '0d', '-1d', '1.5d', '90 days', 'd', ''])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('addDuration', () => {
  const day = (text: string) => new Date(`${text}T00:00:00Z`);
  it.each([
    ['2026-01-01', '90d', '2026-04-01'],
    ['2026-01-31', '1m', '2026-02-28'],
    ['2024-01-31', '1m', '2024-02-29'],
    ['2026-08-31', '6m', '2027-02-28'],
    ['2026-03-15', '1y', '2027-03-15'],
    ['2026-03-01', '2w', '2026-03-15'],
  ])('%s + %s = %s', (from, duration, to) => {
    expect(addDuration(day(from), parseDuration(duration)!).toISOString().slice(0, 10)).toBe(to);
  });
  it('subtracts calendar months', () => {
    expect(addDuration(day('2026-03-31'), parseDuration('1m')!, -1).toISOString().slice(0, 10)).toBe('2026-02-28');
  });
  it('counts whole days', () => {
    expect(daysBetween(day('2026-01-01'), day('2026-01-15'))).toBe(14);
    expect(daysBetween(day('2026-01-15'), day('2026-01-01'))).toBe(-14);
  });
});

describe('parseDate', () => {
  it('reads a day as midnight UTC', () => {
    expect(parseDate('2026-04-01')?.toISOString()).toBe('2026-04-01T00:00:00.000Z');
  });
  it.each(['2026-02-30', '01/04/2026', 'tomorrow', '2026-13-01'])('refuses %j', (text) => {
    expect(parseDate(text)).toBeUndefined();
  });
});
