import { describe, expect, it } from 'vitest';
import { formatBaseline, parseBaseline, withoutBaseline } from '../../../src/core/scan/baseline.js';
import { Detector } from '../../../src/core/scan/detector.js';
import { DiffParser, unquotePath } from '../../../src/core/scan/diff-parser.js';
import { fake } from '../../../src/core/scan/fake-values.js';
import { findingFingerprint } from '../../../src/core/scan/fingerprint.js';
import { KeywordMatcher } from '../../../src/core/scan/keyword-matcher.js';
import { rules } from '../../../src/core/scan/rules.js';
import type { Fragment } from '../../../src/core/scan/types.js';

const detector = new Detector({ rules });
const token = () => fake.github();

describe('Detector', () => {
  it('gives line and column in the file, also for a fragment of non-adjacent diff lines', () => {
    const secret = token();
    const [finding] = detector.detect({
      text: `first\n  x = "${secret}"`,
      file: 'a.py',
      lineNumbers: [10, 42],
      commit: 'c1',
    });
    expect(finding).toMatchObject({ line: 42, column: 8, commit: 'c1', file: 'a.py' });
  });

  it('keeps one finding where a provider rule and the generic rule cover the same value', () => {
    const found = detector.detect({ text: `GITHUB_TOKEN="${token()}"`, file: '.env' });
    expect(found.map((finding) => finding.ruleId)).toEqual(['github-token']);
  });

  it('fingerprints by rule, path and secret, never by line', () => {
    const secret = token();
    const one = detector.detect({ text: `a=${secret}`, file: 'x.txt' })[0]!;
    const moved = detector.detect({ text: `\n\n\nb = ${secret}`, file: 'x.txt' })[0]!;
    const other = detector.detect({ text: `a=${secret}`, file: 'y.txt' })[0]!;
    expect(moved.fingerprint).toBe(one.fingerprint);
    expect(other.fingerprint).not.toBe(one.fingerprint);
    expect(one.fingerprint).toBe(findingFingerprint('github-token', 'x.txt', secret));
  });

  it('skips a line marked secrets:allow, and only that line', () => {
    const text = `a=${token()} # secrets:allow\nb=${token()}`;
    expect(detector.detect({ text, file: 'x' }).map((finding) => finding.line)).toEqual([2]);
  });

  it('finds managed values literally, critical, and ignores ones too short to mean anything', () => {
    const value = fake.alnum(20);
    const managed = new Detector({
      rules: [],
      managed: [
        { id: 'db', value },
        { id: 'tiny', value: 'ab' },
      ],
    });
    const found = managed.detect({ text: `password is ${value}; ab ab`, file: 'notes.md' });
    expect(found.map((finding) => [finding.ruleId, finding.severity, finding.column])).toEqual([
      ['managed:db', 'critical', 13],
    ]);
  });

  it('honours ignore globs', () => {
    const ignoring = new Detector({ rules, ignorePaths: ['fixtures/**', '*.snap'] });
    const text = `t=${token()}`;
    expect(ignoring.detect({ text, file: 'fixtures/deep/a.txt' })).toEqual([]);
    expect(ignoring.detect({ text, file: 'src/__snapshots__/x.snap' })).toEqual([]);
    expect(ignoring.detect({ text, file: 'src/a.txt' })).toHaveLength(1);
  });

  it('finds a committed key store by its path', () => {
    expect(detector.detectPath('certs/client.p12').map((finding) => finding.ruleId)).toEqual(['key-container-file']);
    expect(detector.detectPath('certs/client.pem.pub')).toEqual([]);
  });

  it('does not report placeholders the issue lists', () => {
    const placeholders = [
      'API_TOKEN=YOUR_TOKEN_HERE',
      'password: <from-vault>',
      'SECRET_KEY=change-in-production',
      'token = "xxxxxxxxxxxxxxxxxxxxxxxx"',
      'API_KEY=${API_KEY}',
      'API_KEY=$API_KEY',
      'const secret = process.env.JWT_SECRET;',
      'token = os.environ["TOKEN"]',
      `request_id: ${fake.uuid()}`,
      `integrity: sha512-${fake.base64(86)}==`,
      `public_key = "ssh-ed25519 ${fake.base64(68)}"`,
    ];
    for (const text of placeholders) expect(detector.detect({ text, file: 'config.txt' }), text).toEqual([]);
  });
});

describe('KeywordMatcher', () => {
  it('reports exactly the keywords present, overlapping ones too', () => {
    const matcher = new KeywordMatcher(['he', 'she', 'his', 'hers', 'xyz']);
    expect([...matcher.present('ushers')]).toEqual([1, 1, 0, 1, 0]);
  });

  it('finds, folding ASCII case as it reads, the keywords present() finds in the lowercased text', () => {
    const keywords = ['he', 'she', 'his', 'hers', 'key', 'k_', 'pass', '://', 'ssh-'];
    const matcher = new KeywordMatcher(keywords);
    const expected = (text: string) => {
      const flags = matcher.present(text.toLowerCase());
      return keywords.filter((_, id) => flags[id] === 1).sort();
    };
    const found = (text: string) => {
      const ids = matcher.foundIn(text) ?? matcher.foundInLower(text.toLowerCase());
      expect(new Set(ids).size).toBe(ids.length);
      return ids.map((id) => keywords[id]!).sort();
    };
    expect(found('USHERS')).toEqual(['he', 'hers', 'she']);
    // Non-ASCII: the caller lowercases, as the Kelvin sign lowercases to an ASCII k.
    expect(matcher.foundIn('\u212aey here')).toBeUndefined();
    expect(found('\u212aEY')).toEqual(['key']);
    expect(matcher.foundIn('pass then caf\u00e9')).toBeUndefined();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const alphabet = [
      'h',
      'E',
      's',
      'I',
      'r',
      'K',
      'y',
      '_',
      'p',
      'A',
      'S',
      ':',
      '/',
      '-',
      'x',
      ' ',
      '\n',
      '\u212a',
      '\u00e9',
    ];
    for (let round = 0; round < 2000; round++) {
      const length = Math.floor(random() * 40);
      const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      expect(found(text), JSON.stringify(text)).toEqual(expected(text));
    }
  });
});

describe('DiffParser', () => {
  const parse = (text: string) => {
    const fragments: Fragment[] = [];
    const parser = new DiffParser((fragment) => fragments.push(fragment));
    parser.write(Buffer.from(text));
    parser.end();
    return fragments;
  };

  it('keeps added lines with their new line numbers; skips removed lines and deleted files', () => {
    const fragments = parse(
      [
        '\u0001abc\u001fA <a@x>\u001f2024-01-01T00:00:00Z',
        '',
        'diff --git a/x.txt b/x.txt',
        '--- a/x.txt',
        '+++ b/x.txt',
        '@@ -2 +2,2 @@',
        '-old',
        '+new one',
        '++++ looks like a header but is content',
        '@@ -9,0 +10 @@',
        '+later\r',
        'diff --git a/gone.txt b/gone.txt',
        'deleted file mode 100644',
        '--- a/gone.txt',
        '+++ /dev/null',
        '@@ -1 +0,0 @@',
        '-bye',
      ].join('\n'),
    );
    expect(fragments).toEqual([
      {
        text: 'new one\n+++ looks like a header but is content\nlater',
        file: 'x.txt',
        lineNumbers: [2, 3, 10],
        commit: 'abc',
        author: 'A <a@x>',
        date: '2024-01-01T00:00:00Z',
      },
    ]);
  });

  it('counts only lines a merge itself adds in a combined diff', () => {
    const fragments = parse(
      [
        'diff --cc m.txt',
        '--- a/m.txt',
        '+++ b/m.txt',
        '@@@ -1,2 -1,2 +1,3 @@@',
        '  same',
        ' +from second parent',
        '++evil',
        '- gone',
      ].join('\n'),
    );
    expect(fragments).toEqual([{ text: 'evil', file: 'm.txt', lineNumbers: [3] }]);
  });

  it('unquotes C-quoted paths', () => {
    expect(unquotePath('"dir/a\\tb \\303\\251.txt"')).toBe('dir/a\tb é.txt');
    expect(unquotePath('plain.txt')).toBe('plain.txt');
  });
});

describe('baseline and globs', () => {
  it('formats a sorted, stable baseline without lines or dates, and filters by it', () => {
    const found = [...detector.detect({ text: `a=${token()}\nb=${token()}`, file: 'x' })];
    const text = formatBaseline(found);
    expect(formatBaseline([...found].reverse())).toBe(text);
    expect(text).not.toMatch(/"line"|"date"|"time"/);
    const accepted = parseBaseline(text, 'baseline.json');
    expect(withoutBaseline(found, accepted)).toEqual([]);
    expect(() => parseBaseline('{"findings": [{}]}', 'b.json')).toThrow(/expected/);
  });
});
