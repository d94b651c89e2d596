import { describe, expect, it } from 'vitest';
import { DiffParser } from '../../../src/core/scan/diff-parser.js';
import type { Fragment } from '../../../src/core/scan/types.js';

/** Runs bytes through a parser in chunks of `size` bytes (all at once without a size). */
function parse(bytes: Buffer, size?: number): { fragments: Fragment[]; commits: number } {
  const fragments: Fragment[] = [];
  let commits = 0;
  const parser = new DiffParser(
    (fragment) => fragments.push(fragment),
    () => commits++,
  );
  if (size === undefined) parser.write(bytes);
  else for (let at = 0; at < bytes.length; at += size) parser.write(bytes.subarray(at, at + size));
  parser.end();
  return { fragments, commits };
}

const lines = (...parts: Array<string | Buffer>) =>
  Buffer.concat(parts.flatMap((part) => [typeof part === 'string' ? Buffer.from(part) : part, Buffer.from('\n')]));

const commit = (hash: string) => `\u0001${hash}\u001fA <a@x>\u001f2024-01-01T00:00:00Z`;

describe('DiffParser on bytes', () => {
  it('reads a path that is not UTF-8 as UTF-8 with replacement characters, and unquotes C-quoted ones', () => {
    const bytes = lines(
      commit('c1'),
      'diff --git a/raw/lat\xe9n1.env b/raw/lat\xe9n1.env',
      Buffer.from('+++ b/raw/lat\xe9n1.env', 'latin1'),
      '@@ -0,0 +1 @@',
      Buffer.concat([Buffer.from('+name=\xe9t\xe9 ', 'latin1'), Buffer.from('caf\u00e9')]),
      'diff --git "a/dir/a\\tb" "b/dir/a\\tb"',
      '+++ "b/dir/a\\tb \\303\\251.txt"',
      '@@ -0,0 +7 @@',
      '+tabbed',
    );
    expect(parse(bytes).fragments).toEqual([
      expect.objectContaining({ file: 'raw/lat\ufffdn1.env', text: 'name=\ufffdt\ufffd caf\u00e9', lineNumbers: [1] }),
      expect.objectContaining({ file: 'dir/a\tb \u00e9.txt', text: 'tabbed', lineNumbers: [7] }),
    ]);
  });

  it('drops the CR of CRLF lines, also when the chunk ends between CR and LF', () => {
    const bytes = Buffer.from(
      [
        commit('c1'),
        'diff --git a/w.txt b/w.txt',
        '+++ b/w.txt',
        '@@ -1 +1,2 @@',
        '-old\r',
        '+one\r',
        '+two\r',
        '',
      ].join('\n'),
    );
    const cut = bytes.indexOf('\r\n+two') + 1;
    const whole = parse(bytes).fragments;
    expect(whole).toEqual([expect.objectContaining({ file: 'w.txt', text: 'one\ntwo', lineNumbers: [1, 2] })]);
    const fragments: Fragment[] = [];
    const parser = new DiffParser((fragment) => fragments.push(fragment));
    parser.write(bytes.subarray(0, cut));
    parser.write(bytes.subarray(cut));
    parser.end();
    expect(fragments).toEqual(whole);
  });

  it('reads added lines that start with +++ as content, and a later file header as a header', () => {
    const bytes = lines(
      commit('c1'),
      'diff --git a/p.txt b/p.txt',
      '--- a/p.txt',
      '+++ b/p.txt',
      '@@ -1 +1,2 @@',
      '-+++ removed',
      '++++ b/not-a-file.txt',
      '+++ plain',
      'diff --git a/q.txt b/q.txt',
      '+++ b/q.txt',
      '@@ -3,0 +4 @@',
      '+q',
    );
    expect(parse(bytes).fragments.map(({ file, text, lineNumbers }) => ({ file, text, lineNumbers }))).toEqual([
      { file: 'p.txt', text: '+++ b/not-a-file.txt\n++ plain', lineNumbers: [1, 2] },
      { file: 'q.txt', text: 'q', lineNumbers: [4] },
    ]);
  });

  it('yields nothing for a binary file and goes on with the next one', () => {
    const bytes = lines(
      commit('c1'),
      'diff --git a/bin.dat b/bin.dat',
      'new file mode 100644',
      'index 0000000..1234567',
      'Binary files /dev/null and b/bin.dat differ',
      'diff --git a/t.txt b/t.txt',
      '+++ b/t.txt',
      '@@ -0,0 +1 @@',
      '+after the binary',
    );
    expect(parse(bytes).fragments).toEqual([
      expect.objectContaining({ file: 't.txt', text: 'after the binary', commit: 'c1' }),
    ]);
  });

  it('joins a line that spans many chunks, and a multi-byte character cut between two', () => {
    const long = 'x'.repeat(200_000) + '\u00e9\u{1F511}' + 'y'.repeat(1000);
    const bytes = lines(commit('c1'), 'diff --git a/l.js b/l.js', '+++ b/l.js', '@@ -0,0 +1,2 @@', `+${long}`, '+end');
    const expected = [expect.objectContaining({ file: 'l.js', text: `${long}\nend`, lineNumbers: [1, 2] })];
    expect(parse(bytes, 1000).fragments).toEqual(expected);
    // Cut inside the 4-byte key emoji and inside the 2-byte é.
    expect(parse(bytes, 3).fragments).toEqual(expected);
  });

  it('hands on the added lines collected so far once a line takes them over the fragment limit', () => {
    const huge = 'z'.repeat(4 * 1024 * 1024);
    const bytes = lines(
      commit('c1'),
      'diff --git a/h.js b/h.js',
      '+++ b/h.js',
      '@@ -0,0 +1,3 @@',
      '+first',
      `+${huge}`,
      '+third',
    );
    const { fragments } = parse(bytes, 65536);
    expect(fragments.map((fragment) => [fragment.text.length, fragment.lineNumbers])).toEqual([
      ['first'.length + 1 + huge.length, [1, 2]],
      ['third'.length, [3]],
    ]);
  });

  it('tells of each commit, and reads a last line that has no newline', () => {
    const bytes = Buffer.from(
      [
        commit('c1'),
        'diff --git a/a b/a',
        '+++ b/a',
        '@@ -0,0 +1 @@',
        '+a',
        commit('c2'),
        'diff --git a/b b/b',
        '+++ b/b',
        '@@ -0,0 +1 @@',
        '+last',
      ].join('\n'),
    );
    const { fragments, commits } = parse(bytes, 5);
    expect(commits).toBe(2);
    expect(fragments.map(({ file, text, commit: hash }) => ({ file, text, hash }))).toEqual([
      { file: 'a', text: 'a', hash: 'c1' },
      { file: 'b', text: 'last', hash: 'c2' },
    ]);
  });

  it("decodes a file's added lines together as each line decoded alone, broken UTF-8 included", () => {
    // Lead bytes cut off at a line's end, stray continuation bytes at the next line's start, CRs.
    const added = [
      Buffer.from([0x61, 0xc3]),
      Buffer.from([0xa9, 0x62, 0xe2, 0x82]),
      Buffer.from([0xf0, 0x9f, 0x94, 0x91, 0x0d]),
      Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80]),
      Buffer.from([]),
      Buffer.from([0x0d]),
    ];
    const bytes = lines(
      commit('c1'),
      'diff --git a/u b/u',
      '+++ b/u',
      '@@ -0,0 +1,6 @@',
      ...added.map((line) => Buffer.concat([Buffer.from('+'), line])),
    );
    const alone = added.map((line) => {
      const text = line.toString('utf8');
      return text.endsWith('\r') ? text.slice(0, -1) : text;
    });
    for (const size of [undefined, 1, 2, 5]) {
      expect(parse(bytes, size).fragments).toEqual([
        expect.objectContaining({ text: alone.join('\n'), lineNumbers: [1, 2, 3, 4, 5, 6] }),
      ]);
    }
  });

  it('reads hunk headers of every shape git prints, and odd ones as the pattern does', () => {
    const hunk = (header: string, ...body: string[]) =>
      parse(lines(commit('c1'), 'diff --git a/h b/h', '+++ b/h', header, ...body)).fragments.map(
        (fragment) => fragment.lineNumbers,
      );
    expect(hunk('@@ -3,2 +17,4 @@ function context()', '+a', '+b')).toEqual([[17, 18]]);
    expect(hunk('@@ -0,0 +1 @@', '+a')).toEqual([[1]]);
    // Not a hunk header: the lines after it are still the file header's, so nothing is added.
    expect(hunk('@@ -1 +x @@', '+a')).toEqual([]);
    // More digits than a double holds exactly: read as Number() reads them.
    expect(hunk('@@ -1 +12345678901234567890 @@', '+a')).toEqual([[12345678901234567000]]);
    // A merge: three @ and two parents, only lines new against both count.
    expect(hunk('@@@ -1,2 -1 +5,3 @@@', '++a', ' +b', '++c')).toEqual([[5, 7]]);
  });
});
