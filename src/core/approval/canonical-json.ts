import { createHash } from 'node:crypto';

/** What canonical JSON can hold: no undefined, no non-finite or fractional numbers, no dates. */
export type CanonicalValue = null | boolean | number | string | CanonicalValue[] | { [key: string]: CanonicalValue };

/**
 * Canonical JSON (the subset of RFC 8785 a change request needs): object keys sorted by UTF-16
 * code units, no whitespace, strings as JSON.stringify writes them, integers only. Two programs
 * that agree on the data agree on the bytes, so a signature over the bytes is a signature over
 * the data, and any edit (even whitespace) is visible as a different digest.
 */
export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON holds integers only, got ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`;
}

/** SHA-256 of bytes or UTF-8 text, lower-case hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
