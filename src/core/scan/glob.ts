import { createRequire } from 'node:module';
import type ignoreFactory from 'ignore';

/**
 * `ignore` is loaded on first use, synchronously: the daily `check` builds a detector too, and
 * should not pay for parsing the package at start-up (see literalMatcher below).
 */
let loaded: typeof ignoreFactory | undefined;
function ignore(): typeof ignoreFactory {
  loaded ??= createRequire(import.meta.url)('ignore') as typeof ignoreFactory;
  return loaded;
}

/** No glob character, no negation, no comment, no escaped or trailing space: a plain path. */
const LITERAL = /^[^\s*?[\]\\!#](?:[^*?[\]\\]*[^\s*?[\]\\])?$/;

/**
 * A plain path read as git reads it, without the package: `/a/b` or `a/b` (anchored at the root)
 * ignores a/b and everything below it; `name` (no slash) ignores that name at any depth; a
 * trailing slash only matches folders. The daily check's own patterns (the files where managed
 * values live) are all of this kind, so `check` never loads `ignore`. Same answers as the package
 * for such patterns (test/core/scan/ignore-paths.test.ts compares them).
 */
function literalMatcher(pattern: string): (path: string) => boolean {
  const folderOnly = pattern.endsWith('/');
  const body = folderOnly ? pattern.slice(0, -1) : pattern;
  const anchored = body.includes('/');
  const name = body.replace(/^\//, '');
  if (anchored) return (path) => (!folderOnly && path === name) || path.startsWith(`${name}/`);
  return (path) => {
    const parts = path.split('/');
    return parts.some((part, index) => part === name && (index < parts.length - 1 || !folderOnly));
  };
}

/** The patterns through the `ignore` package, whatever they hold. */
export function packageMatcher(patterns: readonly string[]): (path: string) => boolean {
  const factory = ignore();
  const matcher = factory({ ignorecase: false }).add([...patterns]);
  // `ignore` throws on a path outside the root (../x): such a path is not ours to skip.
  return (path) => factory.isPathValid(path) && matcher.ignores(path);
}

/**
 * The policy's `scan.ignore_paths`, read the way git reads a .gitignore: `vendor/` (a folder at
 * any depth), `*.[pP]em` (character classes), `!keep.pem` (negation), a leading `**`, `/rooted`.
 * Matched by the `ignore` package (what eslint and prettier use) rather than a glob of our own,
 * which got folders and classes wrong. Case-sensitive, as git is on Linux. `./x` is read as `/x`.
 */
export function pathMatcher(patterns: readonly string[]): (path: string) => boolean {
  // Most scans have no pattern, and the history asks once per file of every commit.
  if (patterns.length === 0) return () => false;
  const normalised = patterns.map((pattern) => pattern.replace(/^\.\//, '/'));
  const literal = normalised.every((pattern) => LITERAL.test(pattern));
  const matchers = literal ? normalised.map(literalMatcher) : [packageMatcher(normalised)];
  return (path) => {
    const relative = path.replace(/^\.?\//, '');
    if (relative === '' || relative.startsWith('../')) return false;
    return matchers.some((matches) => matches(relative));
  };
}
