import { describe, expect, it } from 'vitest';
import { scramSha256Verifier } from '../../../src/core/credentials/scram.js';
import { Secret } from '../../../src/core/secret.js';

describe('SCRAM-SHA-256 verifier', () => {
  it('matches RFC 7677 §3 (user "user", password "pencil", its salt and 4096 iterations)', () => {
    // The RFC's exchange: salt W22ZaJ0SNY7soEsUEjb6gQ==, and the keys that proof implies.
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const verifier = scramSha256Verifier(new Secret('pencil'), salt, 4096);
    expect(verifier).toBe(
      'SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=',
    );
  });

  it('uses a fresh salt each time, so the same password never gives the same verifier', () => {
    const password = new Secret('pencil');
    expect(scramSha256Verifier(password)).not.toBe(scramSha256Verifier(password));
  });
});
