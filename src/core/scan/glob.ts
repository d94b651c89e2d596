/**
 * Path globs for the policy's ignore list: `**` any folders, `*` within one segment, `?` one
 * character. A pattern without a slash matches the file name at any depth, like .gitignore.
 */
export function globToRegExp(glob: string): RegExp {
  const anchored = glob.includes('/');
  const pattern = glob.replace(/^\.\//, '').replace(/^\//, '');
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else out += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A folder pattern ignores everything below it.
  return new RegExp(`${anchored ? '^' : '(?:^|/)'}${out}(?:/.*)?$`);
}

export function pathMatcher(globs: readonly string[]): (path: string) => boolean {
  const regexes = globs.map(globToRegExp);
  return (path) => regexes.some((regex) => regex.test(path));
}
