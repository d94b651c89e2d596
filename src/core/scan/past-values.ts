/**
 * Past values of managed secrets: the audit trail keeps a keyed fingerprint of every value a
 * secret has had (never the value), so a scan cannot search for them literally. Instead it cuts
 * each line into candidate strings, the shapes env values take, and compares their keyed
 * fingerprints with the remembered ones. Pure: the key and the fingerprints are handed in.
 */
import { fingerprint } from '../secret.js';
import type { Fragment } from './types.js';

export interface PastValue {
  id: string;
  /** The env key (or label) the value was held under. */
  label: string;
  fingerprint: string;
  /** ISO time the value stopped being current (its rotation or revocation). */
  before: string;
}

export interface ExtraHit {
  /** Offset of the value in the fragment's text. */
  at: number;
  secret: string;
  rule: { id: string; family: string; description: string; severity: 'high'; rank: number };
}

/** A matcher the detector runs on every fragment besides its rules and the current values. */
export type ExtraMatcher = (fragment: Fragment) => ExtraHit[];

/** Shorter strings are not worth a fingerprint: no generated secret is this short. */
export const MIN_CANDIDATE_LENGTH = 16;

const TOKEN = /[^\s\x00-\x1f\x7f-\xff'"`,;()<>[\]{}]+/g;

/**
 * The strings of a text that could be an env value: whitespace/quote/bracket-separated tokens,
 * and of a `KEY=value` or `key: value` token the part after the first `=` (URLs keep their own).
 */
export function candidates(text: string): Array<{ at: number; value: string }> {
  const found: Array<{ at: number; value: string }> = [];
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    const at = match.index;
    const add = (offset: number, value: string) => {
      const trimmed = value.replace(/[.:]+$/, '');
      if (trimmed.length >= MIN_CANDIDATE_LENGTH) found.push({ at: at + offset, value: trimmed });
    };
    add(0, token);
    const equals = token.indexOf('=');
    if (equals > 0) add(equals + 1, token.slice(equals + 1));
  }
  return found;
}

export function pastValueMatcher(past: readonly PastValue[], key: Uint8Array): ExtraMatcher | undefined {
  if (past.length === 0) return undefined;
  const byFingerprint = new Map<string, PastValue>();
  for (const value of past) {
    const known = byFingerprint.get(value.fingerprint);
    // The earliest "before": the value stopped being current then.
    if (!known || value.before < known.before) byFingerprint.set(value.fingerprint, value);
  }
  return (fragment) => {
    const hits: ExtraHit[] = [];
    for (const candidate of candidates(fragment.text)) {
      const value = byFingerprint.get(fingerprint(candidate.value, key));
      if (!value) continue;
      hits.push({
        at: candidate.at,
        secret: candidate.value,
        rule: {
          id: `managed-past:${value.id}`,
          family: 'managed-past',
          description: `managed:${value.id} (value before ${value.before.slice(0, 10)})`,
          severity: 'high',
          rank: 3,
        },
      });
    }
    return hits;
  };
}
