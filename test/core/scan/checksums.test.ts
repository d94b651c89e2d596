import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  base62,
  checksumFails,
  crc32,
  hasBase62Crc32,
  macaroonHoldsSignature,
} from '../../../src/core/scan/checksums.js';
import { Detector } from '../../../src/core/scan/detector.js';
import { rules } from '../../../src/core/scan/rules.js';
import { fakeAlnum, fakeChecksummedToken, withOneCharacterChanged } from '../../helpers/fake-secrets.js';

const detector = new Detector({ rules });
const ruleIds = (text: string, file = 'notes.txt') => detector.detect({ text, file }).map((finding) => finding.ruleId);

describe('GitHub and npm token checksums', () => {
  it('computes CRC32 as zlib does, and base62 zero-padded to 6', () => {
    for (let i = 0; i < 200; i++) {
      const text = fakeAlnum(30);
      expect(crc32(text)).toBe(zlib.crc32(text));
    }
    expect(base62(0)).toBe('000000');
    expect(base62(61)).toBe('00000z');
    expect(base62(62)).toBe('000010');
    expect(base62(0xffffffff)).toBe('4gfFC3');
  });

  it('accepts a token built with the checksum and rejects it with any one character changed', () => {
    for (const prefix of ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'npm_']) {
      const token = fakeChecksummedToken(prefix);
      expect(hasBase62Crc32(token.slice(4))).toBe(true);
      expect(checksumFails(token)).toBe(false);
      expect(checksumFails(withOneCharacterChanged(token))).toBe(true);
    }
    // Shapes the scheme does not cover are not judged by it.
    expect(checksumFails(`ghs_${fakeAlnum(40)}`)).toBe(false);
    expect(checksumFails(`xyz_${fakeAlnum(36)}`)).toBe(false);
  });

  it('reports a GitHub token whose checksum holds, and not the same token with a character changed', () => {
    for (const prefix of ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_']) {
      const token = fakeChecksummedToken(prefix);
      expect(ruleIds(`see ${token} here`)).toEqual(['github-token']);
      expect(ruleIds(`see ${withOneCharacterChanged(token)} here`)).toEqual([]);
    }
  });

  it('reports an npm token whose checksum holds, bare, in .npmrc and in an npm-named variable; not with a character changed', () => {
    const token = fakeChecksummedToken('npm_');
    const bad = withOneCharacterChanged(token);
    expect(ruleIds(`see ${token} here`)).toEqual(['npm-token']);
    expect(ruleIds(`see ${bad} here`)).toEqual([]);
    expect(ruleIds(`NPM_PUBLISH_KEY = "${token}"`)).toHaveLength(1);
    expect(ruleIds(`//registry.npmjs.org/:_authToken=${token}`, '.npmrc')).toHaveLength(1);
  });

  it('leaves a failed checksum to the generic rule: reported (medium) only where a secret-like name holds it', () => {
    const bad = withOneCharacterChanged(fakeChecksummedToken('ghp_'));
    expect(ruleIds(`GH_TOKEN=${bad}`, 'deploy.env')).toEqual(['generic-secret-assignment']);
    expect(detector.detect({ text: `GH_TOKEN=${bad}`, file: 'deploy.env' })[0]!.severity).toBe('medium');
    const badNpm = withOneCharacterChanged(fakeChecksummedToken('npm_'));
    expect(ruleIds(`export const NPM_TOKEN = "${badNpm}";`, 'a.js')).toEqual(['generic-secret-assignment']);
    // No secret-like name: nothing.
    expect(ruleIds(`const sample = "${bad}";`, 'a.js')).toEqual([]);
  });

  it('reports a PyPI token whose macaroon holds its signature, and not one cut short', () => {
    // Built here byte by byte: version 2, location pypi.org, a 36-byte identifier, end of header,
    // end of caveats, then the signature field (type 6, 32 bytes).
    const macaroon = Buffer.concat([
      Buffer.from([2, 1, 8]),
      Buffer.from('pypi.org'),
      Buffer.from([2, 36]),
      Buffer.from(fakeAlnum(36)),
      Buffer.from([0, 0, 6, 32]),
      Buffer.from(fakeAlnum(32)),
    ]);
    const token = ['pypi', macaroon.toString('base64url')].join('-');
    expect(macaroonHoldsSignature(token)).toBe(true);
    expect(ruleIds(`PYPI_UPLOAD = "${token}"`, 'ci.py')).toEqual(['pypi-token']);
    const cut = token.slice(0, 84);
    expect(macaroonHoldsSignature(cut)).toBe(false);
    expect(ruleIds(`see ${cut} here`)).toEqual([]);
  });
});
