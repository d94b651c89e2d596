import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as dotenvParse } from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDotenv, quoteDotenvValue, setDotenvValues } from '../../src/core/dotenv.js';
import { isSecretsError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/temp-dir.js';

const edit = (text: string, values: Record<string, string>) =>
  setDotenvValues(parseDotenv(text, '.env'), values, '.env');

describe('setDotenvValues', () => {
  it.each([
    ['keeps an unquoted value unquoted when it is safe', 'A=1\nKEY=old\nB=2\n', 'newvalue', 'A=1\nKEY=newvalue\nB=2\n'],
    [
      'keeps export, comments and blank lines',
      '# top\n\nexport KEY=old # trailing\n',
      'n3w',
      '# top\n\nexport KEY=n3w # trailing\n',
    ],
    ['keeps CRLF and a missing final newline', 'A=1\r\nKEY="old"\r\nB=2', 'fresh', 'A=1\r\nKEY="fresh"\r\nB=2'],
    [
      'single-quotes a URL (& and ? mean something to bash)',
      'KEY=old\n',
      'https://h/x?a=1&b=2',
      "KEY='https://h/x?a=1&b=2'\n",
    ],
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

  it.each(["it's", 'back\\slash', 'two\nlines'])(
    'refuses a value no quoting keeps literal for all readers: %j',
    (value) => {
      expect(() => quoteDotenvValue(value)).toThrow(/would read differently/);
    },
  );
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
      const raw =
        line.value.quote === 'none'
          ? line.value.value
          : line.value.quote === 'single'
            ? `'${line.value.value}'`
            : `"${line.value.value}"`;
      // An empty unquoted value followed by a comment is read differently by dotenv; keep the comment off it.
      const comment = line.comment && !(line.value.quote === 'none' && line.value.value === '') ? ' # note' : '';
      out.push(`${line.exported ? 'export ' : ''}${line.key}=${raw}${comment}`);
    }
  }
  return out.join(eol) + (finalNewline && out.length > 0 ? eol : '');
}

/** Sources every file in one bash process (a subshell each) and returns the K_* variables each defines. */
function bashReadAll(dir: string, texts: string[]): Array<Map<string, string>> {
  const files = texts.map((text, index) => {
    const file = join(dir, `env-${index}`);
    writeFileSync(file, text);
    return file;
  });
  // Builtins only, no fork per file (forks are slow on small CI machines): source, print each K_*
  // variable as NAME=value\0, unset them all before the next file.
  const script =
    'set -a; for f in "$@"; do source "$f"; for v in ${!K_@}; do printf "%s=%s\\0" "$v" "${!v}"; done; unset ${!K_@}; printf "%s\\0" "--END--"; done';
  const result = spawnSync(
    'env',
    ['-i', 'PATH=/usr/bin:/bin', 'bash', '--noprofile', '--norc', '-c', script, '_', ...files],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  expect(result.status, result.stderr).toBe(0);
  const maps: Array<Map<string, string>> = [new Map()];
  for (const pair of result.stdout.split('\0')) {
    if (pair === '--END--') {
      maps.push(new Map());
      continue;
    }
    const at = pair.indexOf('=');
    if (at > 0 && pair.startsWith('K_')) maps[maps.length - 1]!.set(pair.slice(0, at), pair.slice(at + 1));
  }
  maps.pop();
  return maps;
}

const caseArb = fc.record({
  lines: fc.array(lineArb, { minLength: 1, maxLength: 12 }),
  crlf: fc.boolean(),
  finalNewline: fc.boolean(),
  pick: fc.nat(),
  newValue: newValueArb,
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** Renders a case and applies its edit; undefined when the file has no entry to change. */
function applyCase(sample: Case) {
  const text = render(sample.lines, sample.crlf ? '\r\n' : '\n', sample.finalNewline);
  const before = parseDotenv(text, '.env');
  if (before.entries.length === 0) return undefined;
  const target = before.entries[sample.pick % before.entries.length]!;
  const next = setDotenvValues(before, { [target.key]: sample.newValue });
  return { text, before, target, next };
}

describe('setDotenvValues (property)', () => {
  it('changes exactly one value, byte for byte elsewhere; dotenv reads every other key as before', () => {
    fc.assert(
      fc.property(caseArb, (sample) => {
        const applied = applyCase(sample);
        fc.pre(applied !== undefined);
        const { text, before, target, next } = applied!;
        const after = parseDotenv(next, '.env');
        // Our parser: the same keys in the same order, only the target's value changed.
        expect(after.entries.map((entry) => entry.key)).toEqual(before.entries.map((entry) => entry.key));
        for (const [index, entry] of after.entries.entries()) {
          expect(entry.value).toBe(entry.key === target.key ? sample.newValue : before.entries[index]!.value);
        }
        // Every byte outside the edited value is kept.
        expect(next.slice(0, target.valueStart)).toBe(text.slice(0, target.valueStart));
        expect(next.endsWith(text.slice(target.valueEnd))).toBe(true);
        // The dotenv package: every other key as before, the target as the new value.
        const dotenvBefore = dotenvParse(text);
        const dotenvAfter = dotenvParse(next);
        for (const entry of before.entries)
          if (entry.key !== target.key) expect(dotenvAfter[entry.key]).toBe(dotenvBefore[entry.key]);
        expect(dotenvAfter[target.key]).toBe(sample.newValue);
      }),
      { numRuns: 300 },
    );
  });

  it('bash `set -a; source` reads every other key as before, and the new value literally', () => {
    // One bash process for all samples: spawning one per case is too slow for a 2-core CI.
    const cases = fc
      .sample(caseArb, { numRuns: 150 })
      .map((sample) => ({ sample, applied: applyCase(sample) }))
      .filter((item) => item.applied !== undefined);
    const reads = bashReadAll(
      tempDir(),
      cases.flatMap(({ applied }) => [applied!.text, applied!.next]),
    );
    cases.forEach(({ sample, applied }, index) => {
      const bashBefore = reads[2 * index]!;
      const bashAfter = reads[2 * index + 1]!;
      for (const entry of applied!.before.entries) {
        if (entry.key !== applied!.target.key)
          expect(bashAfter.get(entry.key), `${JSON.stringify(applied!.next)}`).toBe(bashBefore.get(entry.key));
      }
      // bash keeps a CRLF line's \r in the value, before and after alike; on LF files it reads the value exactly.
      if (!sample.crlf) expect(bashAfter.get(applied!.target.key), JSON.stringify(applied!.next)).toBe(sample.newValue);
    });
  });
});
