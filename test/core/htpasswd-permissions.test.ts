import { describe, expect, it } from 'vitest';
import { htpasswdPermissionWarnings, idOfName, isMountPoint, nginxWorker, type HtpasswdFileFacts } from '../../src/core/htpasswd-permissions.js';
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

describe('htpasswdPermissionWarnings', () => {
  const stat = (overrides: Partial<FileStat> = {}): FileStat => ({ mode: 0o640, uid: 0, gid: 33, size: 1, mtime: new Date(0), ino: 1, nlink: 1, isFile: true, isDirectory: false, ...overrides });
  const facts = (overrides: Partial<HtpasswdFileFacts> = {}): HtpasswdFileFacts => ({
    path: '/etc/nginx/.htpasswd',
    stat: stat(),
    worker: { user: 'www-data', group: 'www-data', source: '/etc/nginx/nginx.conf' },
    workerUid: 33,
    workerGid: 33,
    mode: 0o640,
    bindMounted: false,
    ...overrides,
  });

  it.each<[string, Partial<HtpasswdFileFacts>, RegExp[]]>([
    ['root:www-data 640 is what nginx needs', {}, []],
    ['root:root 640 gives nginx a 500', { stat: stat({ gid: 0 }) }, [/not nginx's worker group www-data.*chgrp www-data/]],
    ['root:www-data 600 gives the group nothing', { mode: 0o600 }, [/no read access/]],
    ['owned by the worker itself is readable', { stat: stat({ uid: 33, gid: 0 }), mode: 0o600 }, []],
    ['hard links keep the old hash', { stat: stat({ nlink: 2 }) }, [/2 hard links/]],
    ['a bind mount keeps the old file', { bindMounted: true }, [/bind mount/]],
  ])('%s', (_name, overrides, expected) => {
    const warnings = htpasswdPermissionWarnings(facts(overrides));
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((pattern, index) => expect(warnings[index]).toMatch(pattern));
  });
});
