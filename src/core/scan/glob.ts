import { createRequire } from 'node:module';
import type ignoreFactory from 'ignore';

/**
 * `ignore` is loaded on first use, synchronously: the daily `check` builds a detector too, and
 * with no ignore_paths in the policy it should not pay for parsing the package at start-up.
 */
let loaded: typeof ignoreFactory | undefined;
function ignore(): typeof ignoreFactory {
  loaded ??= createRequire(import.meta.url)('ignore') as typeof ignoreFactory;
  return loaded;
}

/**
 * The policy's `scan.ignore_paths`, read the way git reads a .gitignore: `vendor/` (a folder at
 * any depth), `*.[pP]em` (character classes), `!keep.pem` (negation), a leading `**`, `/rooted`.
 * Matched by the `ignore` package (what eslint and prettier use) rather than a glob of our own,
 * which got folders and classes wrong. Case-sensitive, as git is on Linux. `./x` is read as `/x`.
 */
export function pathMatcher(patterns: readonly string[]): (path: string) => boolean {
  if (patterns.length === 0) return () => false;
  const factory = ignore();
  const matcher = factory({ ignorecase: false }).add(patterns.map((pattern) => pattern.replace(/^\.\//, '/')));
  return (path) => {
    const relative = path.replace(/^\.?\//, '');
    // `ignore` throws on a path outside the root (../x): such a path is not ours to skip.
    return factory.isPathValid(relative) && matcher.ignores(relative);
  };
}
