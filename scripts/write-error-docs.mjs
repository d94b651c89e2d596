#!/usr/bin/env node
// Writes docs/errors.md from the error catalogue (run after `npm run build`); a test fails when
// the committed file is stale.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderErrorDocs } from '../dist/report/error-docs.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'errors.md');
writeFileSync(out, renderErrorDocs());
console.log(`wrote ${out}`);
