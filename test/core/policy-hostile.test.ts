import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/kinds/index.js';
import { isSecretsError } from '../../src/core/errors.js';

function failure(text: string) {
  try {
    parsePolicy(text, '/tmp/secrets.yaml', 'secrets.yaml');
  } catch (error) {
    if (isSecretsError(error)) return error;
    throw error;
  }
  throw new Error('parsed');
}

describe('row 18: hostile policy input', () => {
  it('a YAML alias bomb: one line with file:line, exit 3', () => {
    const lines = ['version: 1', 'deployment: x', 'a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 9; level++) {
      const prev = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const error = failure(`${lines.join('\n')}\nsecrets: {}\n`);
    expect(error.exitCode).toBe(3);
    expect(error.toLine()).toMatch(/^\[policy-yaml\] secrets\.yaml:4:1: not valid YAML: .*alias/);
    expect(error.toLine().split('\n')).toHaveLength(1);
  });

  it('bcrypt_cost 1e20: the field, the range and the value as written', () => {
    const error = failure(
      [
        'version: 1',
        'deployment: x',
        'secrets:',
        '  web:',
        '    kind: htpasswd',
        '    file: h',
        '    user: admin',
        '    rotate_every: 90d',
        '    bcrypt_cost: 1e20',
      ].join('\n'),
    );
    expect(error.exitCode).toBe(3);
    expect(error.toLine()).toMatch(
      /^\[policy-invalid\] secrets\.yaml:9:\d+: secrets\.web\.bcrypt_cost: expected at most 15, got (1e\+?20|100000000000000000000)$/,
    );
  });
});
