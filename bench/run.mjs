#!/usr/bin/env node
// Runs every bench/*.bench.mjs in name order against the built CLI (dist/). Each script prints
// its figures as ratios against a baseline it measures in the same run, so the numbers mean the
// same on a slow machine and a fast one.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((name) => name.endsWith('.bench.mjs'))
  .filter((name) => only.length === 0 || only.some((filter) => name.includes(filter)))
  .sort();
let failed = 0;
for (const name of scripts) {
  console.log(`\n## ${name.replace('.bench.mjs', '')}`);
  const result = spawnSync(process.execPath, [join(here, name)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.log(`(${name} failed with exit ${result.status})`);
  }
}
process.exit(failed === 0 ? 0 : 1);
