import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex, type CanonicalValue } from '../../../src/core/approval/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys by code unit at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: [2, { z: null, a: 'x' }], a: true, B: 'é' })).toBe(
      '{"B":"é","a":true,"b":[2,{"a":"x","z":null}]}',
    );
  });

  it('refuses what has no single spelling: fractions, non-finite numbers', () => {
    expect(() => canonicalJson(1.5)).toThrow(/integers only/);
    expect(() => canonicalJson(Number.NaN)).toThrow(/integers only/);
  });

  it('is a fixed point of parse: the same data, in any key order, gives the same bytes', () => {
    const value: fc.Arbitrary<CanonicalValue> = fc.letrec<{ v: CanonicalValue }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        fc.string(),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, (data) => {
        const text = canonicalJson(data);
        expect(canonicalJson(JSON.parse(text) as CanonicalValue)).toBe(text);
      }),
    );
  });

  it('sha256Hex is the plain SHA-256 of the bytes', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
