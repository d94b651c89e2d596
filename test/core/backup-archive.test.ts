import { describe, expect, it } from 'vitest';
import {
  archiveName,
  backupFileName,
  backupNameDate,
  buildArchive,
  diffEnvKeys,
  isOwnBackupName,
  MANIFEST_NAME,
  readArchive,
  selectPrunable,
  sha256Hex,
} from '../../src/core/backup-archive.js';
import { parseDuration } from '../../src/core/duration.js';
import { readTar } from '../../src/core/tar.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('backup names', () => {
  it('carry the deployment and a sortable UTC timestamp', () => {
    const at = new Date('2026-11-24T12:34:56.789Z');
    expect(backupFileName('mt5-crs', at)).toBe('mt5-crs-20261124T123456Z.tar.gpg');
    expect(backupFileName('mt5-crs', at, 2)).toBe('mt5-crs-20261124T123456Z-2.tar.gpg');
    expect(backupNameDate('mt5-crs-20261124T123456Z-2.tar.gpg')?.toISOString()).toBe('2026-11-24T12:34:56.000Z');
    expect(isOwnBackupName('mt5-crs', 'mt5-crs-20261124T123456Z.tar.gpg')).toBe(true);
    expect(isOwnBackupName('mt5', 'mt5-crs-20261124T123456Z.tar.gpg')).toBe(false);
    expect(isOwnBackupName('mt5-crs', 'notes.gpg')).toBe(false);
  });
});

describe('buildArchive / readArchive', () => {
  it('puts a manifest first and maps files back to their live paths', () => {
    const files = [
      { path: '/srv/app/.env', data: bytes('A=1\n'), mode: 0o600 },
      { path: '/etc/nginx/.htpasswd', data: bytes('admin:$2y$...\n'), mode: 0o640 },
    ];
    const { tar, manifest } = buildArchive({
      deployment: 'app',
      created: new Date(0),
      reason: 'test',
      root: '/srv/app',
      files,
    });
    expect(readTar(tar).map((entry) => entry.name)).toEqual([MANIFEST_NAME, '.env', 'etc/nginx/.htpasswd']);
    expect(manifest.files[1]).toMatchObject({
      name: 'etc/nginx/.htpasswd',
      path: '/etc/nginx/.htpasswd',
      sha256: sha256Hex(files[1]!.data),
    });
    const read = readArchive(tar, 'x.tar');
    expect(read.files.map((file) => [file.name, file.path])).toEqual([
      ['.env', '/srv/app/.env'],
      ['etc/nginx/.htpasswd', '/etc/nginx/.htpasswd'],
    ]);
  });

  it('treats content that is not a tar as one file named after the literal data', () => {
    const read = readArchive(bytes('A=1'), '.env');
    expect(read.files).toHaveLength(1);
    expect(read.files[0]!.name).toBe('.env');
  });

  it('names files outside the root by their absolute path without the leading slash', () => {
    expect(archiveName('/srv/app', '/srv/app/sub/.env')).toBe('sub/.env');
    expect(archiveName('/srv/app', '/srv/application/.env')).toBe('srv/application/.env');
  });
});

describe('diffEnvKeys', () => {
  it('names keys a restore would add, remove and change — never values', () => {
    const diff = diffEnvKeys('A=1\nB=2\nC=3\n', 'A=1\nB=zq-new-value\nD=4\n');
    expect(diff).toEqual({ added: ['D'], removed: ['C'], changed: ['B'] });
    expect(JSON.stringify(diff)).not.toContain('zq-new-value');
  });

  it('gives up (undefined) on text that is not dotenv', () => {
    expect(diffEnvKeys('A=1\n', 'not dotenv at all\n')).toBeUndefined();
  });
});

describe('selectPrunable', () => {
  const keep = parseDuration('30d')!;
  const now = new Date('2026-11-24T00:00:00Z');
  const at = (day: string) => new Date(`${day}T00:00:00Z`);

  it('deletes backups older than keep', () => {
    const backups = [
      { name: 'new', date: at('2026-11-20') },
      { name: 'old', date: at('2026-09-01') },
    ];
    expect(selectPrunable(backups, keep, now)).toEqual(['old']);
  });

  it('always keeps the newest, however old', () => {
    expect(
      selectPrunable(
        [
          { name: 'only', date: at('2020-01-01') },
          { name: 'older', date: at('2019-01-01') },
        ],
        keep,
        now,
      ),
    ).toEqual(['older']);
    expect(selectPrunable([], keep, now)).toEqual([]);
  });
});
