import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikeTar, readTar, safeEntryName, writeTar } from '../../src/core/tar.js';
import { hasTool } from '../helpers/system-tools.js';
import { tempDir } from '../helpers/temp-dir.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('writeTar / readTar', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['empty file', new Uint8Array()],
    ['exactly one block', new Uint8Array(512).fill(65)],
    ['CRLF without final newline', bytes('A=1\r\nB=2')],
    ['UTF-8', bytes('NAME="Zoë 雪"\n')],
    ['binary', Uint8Array.from({ length: 1000 }, (_, index) => index % 256)],
  ];
  for (const [label, data] of cases) {
    it(`round-trips ${label} byte for byte`, () => {
      const [entry] = readTar(writeTar([{ name: '.env', data, mode: 0o640 }]));
      expect(entry!.name).toBe('.env');
      expect(Buffer.from(entry!.data).equals(Buffer.from(data))).toBe(true);
      expect(entry!.mode).toBe(0o640);
    });
  }

  it('splits long names into prefix and name', () => {
    const name = `${'deep/'.repeat(30)}.env`;
    expect(readTar(writeTar([{ name, data: bytes('x') }]))[0]!.name).toBe(name);
  });

  it('refuses a truncated archive', () => {
    const tar = writeTar([{ name: 'a', data: new Uint8Array(2000) }]);
    expect(() => readTar(tar.subarray(0, 1024))).toThrow(/truncated/);
  });

  it('recognises tar and not other bytes', () => {
    expect(looksLikeTar(writeTar([{ name: 'a', data: bytes('x') }]))).toBe(true);
    expect(looksLikeTar(bytes('A=1\n'))).toBe(false);
    expect(looksLikeTar(new Uint8Array(1024))).toBe(false);
  });

  it.skipIf(!hasTool('tar'))('writes archives GNU tar extracts, and reads what GNU tar writes', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ours.tar'), writeTar([{ name: 'sub/.env', data: bytes('A=1\r\n') }]));
    execFileSync('tar', ['-xf', 'ours.tar'], { cwd: dir });
    expect(readFileSync(join(dir, 'sub/.env'), 'utf8')).toBe('A=1\r\n');
    execFileSync('tar', ['-cf', 'theirs.tar', 'sub'], { cwd: dir });
    const entries = readTar(new Uint8Array(readFileSync(join(dir, 'theirs.tar'))));
    expect(entries.map((entry) => entry.name)).toEqual(['sub/.env']);
  });
});

describe('safeEntryName', () => {
  it.each([
    ['.env', '.env'],
    ['./a/b', 'a/b'],
    ['/etc/passwd', undefined],
    ['../x', undefined],
    ['a/../../x', undefined],
    ['', undefined],
  ])('%s → %s', (name, expected) => {
    expect(safeEntryName(name)).toBe(expected);
  });
});
