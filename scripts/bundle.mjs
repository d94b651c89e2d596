#!/usr/bin/env node
// Bundles the CLI (after tsc) into dist/cli-bundle/: our code plus the three packages every
// command loads (commander, yaml, zod/mini), minified and tree-shaken. Loading ~150 small ES
// modules cost more than node's own start-up; one file keeps `secrets check` near `node -e 0`.
// Every other dependency stays an ordinary import, loaded lazily by the commands that need it.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bundled = new Set(['commander', 'yaml', 'zod']);
const external = Object.keys(dependencies).filter((name) => !bundled.has(name));

// Chunk names carry content hashes: start from an empty folder so old chunks do not pile up.
rmSync(join(root, 'dist/cli-bundle'), { recursive: true, force: true });

await build({
  entryPoints: [join(root, 'dist/cli/main.js')],
  outdir: join(root, 'dist/cli-bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  external: [...external, ...external.map((name) => `${name}/*`)],
  // commander is CommonJS and requires node built-ins; give the ESM bundle a real `require`.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
