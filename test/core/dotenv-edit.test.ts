import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as dotenvParse } from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDotenv, quoteDotenvValue, setDotenvValues } from '../../src/core/dotenv.js';
import { isSecretsError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/temp-dir.js';

const edit = (text: string, values: Record<string, string>) => setDotenvValues(parseDotenv(text, '.env'), values, '.env');

describe('setDotenvValues', () => {
  it.each([
    ['keeps an unquoted value unquoted when it is safe', 'A=1\nKEY=old\nB=2\n', 'newvalue', 'A=1\nKEY=newvalue\nB=2\n'],
    ['keeps export, comments and blank lines', '# top\n\nexport KEY=old # trailing\n', 'n3w', '# top\n\nexport KEY=n3w # trailing\n'],
    ['keeps CRLF and a missing final newline', 'A=1\r\nKEY="old"\r\nB=2', 'fresh', 'A=1\r\nKEY="fresh"\r\nB=2'],
    ['single-quotes a URL (& and ? mean something to bash)', 'KEY=old\n', 'https://h/x?a=1&b=2', "KEY='https://h/x?a=1&b=2'\n"],
    ['single-quotes # (dotenv reads a comment)', 'KEY=old\n', 'a#b', "KEY='a#b'\n"],
    ['leaves double quotes for single when $ appears', 'KEY="old"\n', 'a$b', "KEY='a$b'\n"],
    ['keeps single quotes', "KEY='old'\n", 'plain', "KEY='plain'\n"],
    ['appends a missing key', 'A=1\n', 'v', 'A=1\nKEY=v\n'],
    ['appends a missing key without adding a final newline', 'A=1', 'v', 'A=1\nKEY=v'],
    ['appends with CRLF', 'A=1\r\n', 'v', 'A=1\r\nKEY=v\r\n'],
  ])('%s', (_name, before, value, after) => {
    expect(edit(before, { KEY: value })).toBe(after);
  });

  it('changes two keys at once, in place', () => {
    expect(edit('URL=a\n# c\nSECRET=b\n', { URL: 'x', SECRET: 'y' })).toBe('URL=x\n# c\nSECRET=y\n');
  });

  it('refuses a managed key set twice, naming file:line', () => {
    try {
      edit('KEY=a\nB=1\nKEY=b\n', { KEY: 'x' });
      expect.unreachable();
    } catch (error) {
      expect(isSecretsError(error) && error.code).toBe('env-duplicate');
      expect(isSecretsError(error) && error.where).toBe('.env:3');
    }
  });

  it.each(["it's", 'back\\slash', 'two\nlines'])('refuses a value no quoting keeps literal for all readers: %j', (value) => {
    expect(() => quoteDotenvValue(value)).toThrow(/would read differently/);
  });
});

// ---- property: an edit changes exactly one value, for bash and dotenv alike ----

const keyArb = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/).map((name) => `K_${name}`);
const unquotedArb = fc.stringMatching(/^[A-Za-z0-9_./:@%+,=-]{0,16}$/);
const singleArb = fc.string({ maxLength: 16 }).filter((text) => !/['\\\r\n]/.test(text) && !text.includes('\0'));
const doubleArb = fc.string({ maxLength: 16 }).filter((text) => !/["\\$`!\r\n]/.test(text) && !text.includes('\0'));
const newValueArb = fc.string({ minLength: 1, maxLength: 40 }).filter((text) => !/['\\\r\n\0]/.test(text));

const lineArb = fc.oneof(
  fc.constant({ kind: 'blank' as const }),
  fc.stringMatching(/^[ -~]{0,20}$/).map((text) => ({ kind: 'comment' as const, text })),
  fc.record({
    kind: fc.constant('entry' as const),
    key: keyArb,
    exported: fc.boolean(),
    comment: fc.boolean(),
    value: fc.oneof(
      unquotedArb.map((value) => ({ quote: 'none' as const, value })),
      singleArb.map((value) => ({ quote: 'single' as const, value })),
      doubleArb.map((value) => ({ quote: 'double' as const, value })),
    ),
  }),
);

type Line = typeof lineArb extends fc.Arbitrary<infer T> ? T : never;

function render(lines: Line[], eol: string, finalNewline: boolean): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    if (line.kind === 'blank') out.push('');
    else if (line.kind === 'comment') out.push(`# ${line.text}`);
    else {
      if (seen.has(line.key)) continue;
      seen.add(line.key);
      const raw = line.value.quote === 'none' ? line.value.value : line.value.quote === 'single' ? `'${line.value.value}'` : `"${line.value.value}"`;
      // An empty unquoted value followed by a comment is read differently by dotenv; keep the comment off it.
      const comment = line.comment && !(line.value.quote === 'none' && line.value.value === '') ? ' # note' : '';
      out.push(`${line.exported ? 'export ' : ''}${line.key}=${raw}${comment}`);
    }
  }
  return out.join(eol) + (finalNewline && out.length > 0 ? eol : '');
}

function bashRead(dir: string, text: string): Map<string, string> {
  const file = join(dir, 'env');
  writeFileSync(file, text);
  const result = spawnSync('env', ['-i', 'PATH=/usr/bin:/bin', 'bash', '--noprofile', '--norc', '-c', 'set -a; source "$1"; env -0', '_', file], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  const vars = new Map<string, string>();
  for (const pair of result.stdout.split('\0')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.startsWith('K_')) vars.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return vars;
}

describe('setDotenvValues (property)', () => {
  it('changes exactly one value; bash and dotenv read every other key as before', () => {
    const dir = tempDir();
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 12 }), fc.boolean(), fc.boolean(), fc.nat(), newValueArb, (lines, crlf, finalNewline, pick, newValue) => {
        const eol = crlf ? '\r\n' : '\n';
        const text = render(lines, eol, finalNewline);
        const before = parseDotenv(text, '.env');
        fc.pre(before.entries.length > 0);
        const target = before.entries[pick % before.entries.length]!;
        const next = setDotenvValues(before, { [target.key]: newValue });
        const after = parseDotenv(next, '.env');

        // Our parser: the same keys in the same order, only the target's value changed.
        expect(after.entries.map((entry) => entry.key)).toEqual(before.entries.map((entry) => entry.key));
        for (const [index, entry] of after.entries.entries()) {
          expect(entry.value).toBe(entry.key === target.key ? newValue : before.entries[index]!.value);
        }
        // Every byte outside the edited value is kept.
        expect(next.slice(0, target.valueStart)).toBe(text.slice(0, target.valueStart));
        expect(next.endsWith(text.slice(target.valueEnd))).toBe(true);

        // dotenv and bash: every other key reads as before, the target reads as the new value.
        const dotenvBefore = dotenvParse(text);
        const dotenvAfter = dotenvParse(next);
        const bashBefore = bashRead(dir, text);
        const bashAfter = bashRead(dir, next);
        for (const entry of before.entries) {
          if (entry.key === target.key) continue;
          expect(dotenvAfter[entry.key]).toBe(dotenvBefore[entry.key]);
          expect(bashAfter.get(entry.key)).toBe(bashBefore.get(entry.key));
        }
        expect(dotenvAfter[target.key]).toBe(newValue);
        // bash keeps a CRLF line's \r in the value, before and after alike; on LF files it reads the value exactly.
        if (!crlf) expect(bashAfter.get(target.key)).toBe(newValue);
      }),
      { numRuns: 100 },
    );
  });
});
