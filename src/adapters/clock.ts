import type { Clock } from '../core/ports.js';

export const systemClock: Clock = { now: () => new Date() };

/** A clock stopped at one moment (for --as-of, and tests). */
export function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()) };
}
