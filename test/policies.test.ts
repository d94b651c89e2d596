import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { policyJsonSchema } from '../src/kinds/policy-json-schema.js';

describe('policies/schema.json', () => {
  it('matches the zod schema (run `npm run schema` after changing the policy format)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', 'policies', 'schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(policyJsonSchema())));
  });
});
