/** What git filter-repo puts where a removed value was. */
export const REMOVED_MARK = '***REMOVED***';

/**
 * The text of a `git filter-repo --replace-text` file: one `literal==>***REMOVED***` a line.
 * filter-repo reads a line starting with `regex:` or `glob:` as a pattern, so such a value gets
 * the explicit `literal:` prefix; a value holding a line break cannot be written and is left out.
 * Longest first: a URL is replaced whole before the token inside it.
 */
export function replacementsText(values: readonly string[]): string {
  const unique = [...new Set(values)]
    .filter((value) => value !== '' && !/[\r\n]/.test(value))
    .sort((a, b) => b.length - a.length);
  return unique
    .map((value) => `${/^(regex|glob|literal):/.test(value) ? 'literal:' : ''}${value}==>${REMOVED_MARK}\n`)
    .join('');
}
