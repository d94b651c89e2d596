import { describe, expect, it } from 'vitest';
import { checkFormats } from '../../../src/kinds/checks.js';
import { parseHtpasswd } from '../../../src/core/htpasswd.js';
import { parsePolicy } from '../../../src/kinds/index.js';
import { fakeAlnum } from '../../helpers/fake-secrets.js';

const HASH_CHARS = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const policy = parsePolicy(
  'version: 1\ndeployment: mt5-crs\nroot: /srv\nsecrets:\n  dashboard:\n    kind: htpasswd\n    rotate_every: 90d\n    file: .htpasswd\n    user: admin\n    bcrypt_cost: 8\n',
  '/srv/secrets.yaml',
);

describe('the format check on htpasswd', () => {
  it.each<[string, string, RegExp | undefined]>([
    ['bcrypt at the policy cost', `admin:$2y$08$${fakeAlnum(53, HASH_CHARS)}\n`, undefined],
    ['bcrypt above the policy cost', `admin:$2b$10$${fakeAlnum(53, HASH_CHARS)}\n`, undefined],
    [
      'bcrypt below the policy cost',
      `admin:$2y$05$${fakeAlnum(53, HASH_CHARS)}\n`,
      /bcrypt cost 5 is below the policy's 8/,
    ],
    ['apr1', `admin:$apr1$${fakeAlnum(8, HASH_CHARS)}$${fakeAlnum(22, HASH_CHARS)}\n`, /uses apr1, not bcrypt/],
    ['no line for the user', `alice:$2y$08$${fakeAlnum(53, HASH_CHARS)}\n`, /no line for user admin/],
  ])('%s', (_name, text, expected) => {
    const findings = checkFormats(
      policy,
      undefined,
      new Map([['/srv/.htpasswd', parseHtpasswd(text, '/srv/.htpasswd')]]),
    );
    if (expected === undefined) expect(findings).toEqual([]);
    else
      expect(findings).toEqual([
        expect.objectContaining({ check: 'format', severity: 'critical', message: expect.stringMatching(expected) }),
      ]);
  });
});
