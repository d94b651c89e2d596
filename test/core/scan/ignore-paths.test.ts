import { describe, expect, it } from 'vitest';
import { packageMatcher, pathMatcher } from '../../../src/core/scan/glob.js';

/** `scan.ignore_paths` as git reads a .gitignore: each case is a pattern, paths it ignores, paths it keeps. */
const CASES: Array<{ patterns: string[]; ignored: string[]; kept: string[] }> = [
  {
    patterns: ['vendor/'],
    ignored: ['vendor/lib.js', 'src/vendor/deep/lib.js'],
    kept: ['vendorx/lib.js', 'vendor.js'],
  },
  { patterns: ['*.[pP]em'], ignored: ['key.pem', 'certs/client.Pem'], kept: ['key.PEM', 'key.pem.pub'] },
  { patterns: ['*.pem', '!certs/ca.pem'], ignored: ['a.pem', 'certs/client.pem'], kept: ['certs/ca.pem'] },
  { patterns: ['**/fixtures'], ignored: ['fixtures/a.txt', 'test/a/fixtures/k.pem'], kept: ['fixtures.txt'] },
  { patterns: ['/docs'], ignored: ['docs/x.md'], kept: ['src/docs/x.md'] },
  { patterns: ['test/**/fixtures'], ignored: ['test/a/b/fixtures/k.pem'], kept: ['src/fixtures/k.pem'] },
  { patterns: ['*.snap'], ignored: ['a/b/c.snap'], kept: ['a/b/c.snapshot'] },
  { patterns: ['a?c'], ignored: ['abc'], kept: ['ac'] },
  // The scan service roots the state folder this way; a leading ./ meant the same before.
  { patterns: ['./.secrets'], ignored: ['.secrets/audit.jsonl'], kept: ['app/.secrets/x'] },
];

describe('scan.ignore_paths', () => {
  for (const { patterns, ignored, kept } of CASES) {
    it(`${patterns.join(' ')} ignores ${ignored.join(', ')} and keeps ${kept.join(', ')}`, () => {
      const isIgnored = pathMatcher(patterns);
      for (const path of ignored) expect(isIgnored(path), path).toBe(true);
      for (const path of kept) expect(isIgnored(path), path).toBe(false);
    });
  }

  it('keeps a path outside the root instead of failing on it', () => {
    expect(pathMatcher(['*.pem'])('../elsewhere/a.pem')).toBe(false);
  });

  it('ignores nothing without patterns', () => {
    expect(pathMatcher([])('anything.pem')).toBe(false);
  });

  it('reads plain paths without the package, with the same answers as the package', () => {
    const patterns = ['/.env', '.secrets', 'nginx/.htpasswd', '/var/secrets/', 'build/', 'a.b'];
    const paths = [
      '.env',
      'app/.env',
      '.env.local',
      '.secrets/audit.jsonl',
      'x/.secrets/lock',
      '.secrets',
      'nginx/.htpasswd',
      'etc/nginx/.htpasswd',
      'var/secrets/outbox/p.gpg',
      'var/secrets',
      'build',
      'src/build/x.js',
      'a.b',
      'aXb',
      'c/a.b/d',
    ];
    for (const pattern of patterns) {
      const ours = pathMatcher([pattern]);
      const theirs = packageMatcher([pattern.replace(/^\.\//, '/')]);
      for (const path of paths) expect(ours(path), `${pattern} on ${path}`).toBe(theirs(path));
    }
  });
});
