#!/usr/bin/env node
// Writes policies/schema.json from the zod schema (run after `npm run build`); a test fails when
// the committed file is stale.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { policyJsonSchema } from '../dist/kinds/policy-json-schema.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'policies', 'schema.json');
writeFileSync(out, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
