import { describe, expect, it } from 'vitest';
import {
  idOfName,
  inodeWarnings,
  isMountPoint,
  nginxWorker,
  readAccessWarnings,
  type HtpasswdReadFacts,
} from '../../src/core/htpasswd-permissions.js';
import type { FileStat } from '../../src/core/ports.js';

describe('nginxWorker', () => {
  it.each([
    ['user www-data;\nworker_processes auto;', 'www-data', 'www-data'],
    ['user nginx nginx;', 'nginx', 'nginx'],
    ['worker_processes 1;\n  user  nobody  nogroup ;\nevents {}', 'nobody', 'nogroup'],
    ['# user root;\nuser www-data;', 'www-data', 'www-data'],
    ['events {}', 'www-data', 'www-data'],
  ])('%j → %s:%s', (conf, user, group) => {
    expect(nginxWorker(conf, '/etc/nginx/nginx.conf')).toMatchObject({ user, group });
  });
  it('assumes www-data without nginx.conf and says so', () => {
    expect(nginxWorker(undefined, '/etc/nginx/nginx.conf').source).toMatch(/no nginx.conf/);
  });
});

describe('idOfName and isMountPoint', () => {
  it('finds ids in /etc/group text', () => {
    expect(idOfName('root:x:0:\nwww-data:x:33:\n', 'www-data')).toBe(33);
    expect(idOfName('root:x:0:\n', 'nginx')).toBeUndefined();
  });
  it('sees a single-file bind mount in mountinfo, octal escapes decoded', () => {
    const mountinfo = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '98 22 8:1 /srv/auth/htpasswd /etc/nginx/my\\040file rw,relatime - ext4 /dev/sda1 rw',
    ].join('\n');
    expect(isMountPoint(mountinfo, '/etc/nginx/my file')).toBe(true);
    expect(isMountPoint(mountinfo, '/etc/nginx/.htpasswd')).toBe(false);
  });
});

describe('readAccessWarnings', () => {
  const stat = (overrides: Partial<FileStat> = {}): FileStat => ({
    mode: 0o640,
    uid: 0,
    gid: 33,
    size: 1,
    mtime: new Date(0),
    ino: 1,
    nlink: 1,
    isFile: true,
    isDirectory: false,
    ...overrides,
  });
  const facts = (overrides: Partial<FileStat> = {}, workerGid: number | null = 33): HtpasswdReadFacts => ({
    path: '/etc/nginx/.htpasswd',
    stat: stat(overrides),
    worker: { user: 'www-data', group: 'www-data', source: '/etc/nginx/nginx.conf' },
    workerUid: 33,
    workerGid: workerGid ?? undefined,
  });

  it.each<[string, HtpasswdReadFacts, RegExp | undefined]>([
    ['root:www-data 640 is what nginx needs', facts(), undefined],
    [
      'root:root 640 gives nginx a 500',
      facts({ gid: 0 }),
      /not nginx's worker group www-data.*answers 500: run chgrp www-data/,
    ],
    ['root:root 600 likewise', facts({ gid: 0, mode: 0o600 }), /not nginx's worker group/],
    ['an unknown worker group is named as such', facts({ gid: 0 }, null), /www-data \(not in \/etc\/group\)/],
    ['root:www-data 600 gives the group nothing', facts({ mode: 0o600 }), /no read access/],
    ['owned by the worker itself is readable', facts({ uid: 33, gid: 0, mode: 0o600 }), undefined],
    ['world-readable is readable (compliance flags it, not this)', facts({ gid: 0, mode: 0o644 }), undefined],
  ])('%s', (_name, input, expected) => {
    const warnings = readAccessWarnings(input);
    if (expected === undefined) expect(warnings).toEqual([]);
    else expect(warnings).toEqual([expect.stringMatching(expected)]);
  });
});

describe('inodeWarnings', () => {
  const stat = (nlink: number): FileStat => ({
    mode: 0o640,
    uid: 0,
    gid: 33,
    size: 1,
    mtime: new Date(0),
    ino: 1,
    nlink,
    isFile: true,
    isDirectory: false,
  });
  it.each<[string, number, boolean, RegExp[]]>([
    ['one name, not mounted', 1, false, []],
    ['hard links keep the old hash', 2, false, [/2 hard links/]],
    ['a bind mount keeps the old file', 1, true, [/bind mount/]],
  ])('%s', (_name, nlink, bindMounted, expected) => {
    const warnings = inodeWarnings('/etc/nginx/.htpasswd', stat(nlink), bindMounted);
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((pattern, index) => expect(warnings[index]).toMatch(pattern));
  });
});
