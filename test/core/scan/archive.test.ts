import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { archiveKind, openArchive } from '../../../src/core/scan/archive.js';
import { writeTar } from '../../../src/core/tar.js';

const limits = { maxInflated: 1_000_000, maxMembers: 100, maxDepth: 3 };
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe('openArchive', () => {
  it('knows the formats by name', () => {
    expect(['a.zip', 'b.JAR', 'c.tar', 'd.tar.gz', 'e.tgz', 'f.sql.gz', 'g.txt'].map(archiveKind)).toEqual([
      'zip',
      'zip',
      'tar',
      'tgz',
      'tgz',
      'gz',
      undefined,
    ]);
  });

  it('reads tar members, a tar inside a tgz, and names them archive!member', () => {
    const inner = writeTar([{ name: 'conf/app.env', data: bytes('A=1\n') }]);
    const outer = gzipSync(
      writeTar([
        { name: 'x/inner.tar', data: inner },
        { name: 'readme.md', data: bytes('hi') },
      ]),
    );
    const opened = openArchive('dist/release.tgz', outer, limits);
    expect(opened.skipped).toEqual([]);
    expect(opened.members.map((m) => [m.name, text(m.data)])).toEqual([
      ['dist/release.tgz!x/inner.tar!conf/app.env', 'A=1\n'],
      ['dist/release.tgz!readme.md', 'hi'],
    ]);
  });

  it('stops at the member limit, keeping what it read, and says so', () => {
    const tar = writeTar(Array.from({ length: 5 }, (_, index) => ({ name: `f${index}.txt`, data: bytes('x') })));
    const opened = openArchive('many.tar', tar, { ...limits, maxMembers: 3 });
    expect(opened.members.map((m) => m.name)).toEqual(['many.tar!f0.txt', 'many.tar!f1.txt', 'many.tar!f2.txt']);
    expect(opened.skipped).toEqual([{ file: 'many.tar', reason: 'more than 3 members (limit reached)' }]);
  });

  it('caps gunzip at the inflate budget: a bomb is reported, not inflated whole', () => {
    const bomb = gzipSync(new Uint8Array(5_000_000));
    const opened = openArchive('dump.sql.gz', bomb, { ...limits, maxInflated: 100_000 });
    expect(opened.members).toEqual([]);
    expect(opened.skipped[0]).toMatchObject({ file: 'dump.sql.gz', reason: expect.stringMatching(/zip bomb/) });
  });

  it('reports corrupt gzip and tar data', () => {
    expect(openArchive('x.gz', bytes('not gzip'), limits).skipped[0]!.reason).toMatch(/corrupt compressed data/);
    expect(openArchive('x.tar', new Uint8Array(512).fill(7), limits).skipped[0]!.reason).toMatch(/not a valid tar/);
  });
});
