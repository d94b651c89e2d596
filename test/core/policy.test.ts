import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretsError } from '../../src/core/errors.js';
import type { HtpasswdSpec } from '../../src/kinds/htpasswd/index.js';
import { backupFiles, parsePolicy } from '../../src/kinds/index.js';

const POLICIES = join(__dirname, '..', '..', 'policies');

function errorOf(text: string): string {
  try {
    parsePolicy(text, '/srv/app/secrets.yaml', 'secrets.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(SecretsError);
    expect((error as SecretsError).exitCode).toBe(3);
    return (error as SecretsError).toLine();
  }
  throw new Error('expected the policy to be refused');
}

const HEAD = 'version: 1\ndeployment: demo\n';

describe('parsePolicy: the worked examples', () => {
  it('reads policies/mt5-crs.yaml with every path resolved against root', () => {
    const policy = parsePolicy(readFileSync(join(POLICIES, 'mt5-crs.yaml'), 'utf8'), join(POLICIES, 'mt5-crs.yaml'));
    expect(policy.deployment).toBe('mt5-crs');
    expect(policy.envFile).toBe('/opt/mt5-crs/.env');
    expect(policy.stateDir).toBe('/opt/mt5-crs/var/secrets');
    expect(policy.secrets.map((secret) => secret.id)).toEqual(['dashboard-password', 'dingtalk', 'postgres-password']);
    expect(backupFiles(policy)).toEqual(['/opt/mt5-crs/.env', '/etc/nginx/.htpasswd']);
    const dashboard = policy.secrets[0]!.spec;
    expect(dashboard.kind === 'htpasswd' && (dashboard as HtpasswdSpec).probe?.expect_old).toBe(401);
  });
  it('reads policies/trading-bot.yaml', () => {
    const policy = parsePolicy(
      readFileSync(join(POLICIES, 'trading-bot.yaml'), 'utf8'),
      join(POLICIES, 'trading-bot.yaml'),
    );
    expect(policy.secrets.map((secret) => secret.spec.kind)).toContain('random');
    expect(policy.stateDir).toBe(join(POLICIES, '.secrets'));
  });
  it('resolves a relative root against the policy folder and defaults the state folder beside the policy', () => {
    const policy = parsePolicy(`${HEAD}root: app\nsecrets: {}\n`, '/etc/secrets/policy.yaml');
    expect(policy.root).toBe('/etc/secrets/app');
    expect(policy.envFile).toBe('/etc/secrets/app/.env');
    expect(policy.stateDir).toBe('/etc/secrets/.secrets');
  });
  it('fills defaults: warn_before 14d, bcrypt cost, hook list', () => {
    const policy = parsePolicy(
      `${HEAD}secrets:\n  web:\n    kind: htpasswd\n    file: .htpasswd\n    user: admin\n    rotate_every: 90d\n`,
      '/srv/p.yaml',
    );
    const spec = policy.secrets[0]!.spec;
    expect(spec.warn_before).toBe('14d');
    expect(spec.after_change).toEqual([]);
    expect(spec.kind === 'htpasswd' && (spec as HtpasswdSpec).mode).toBe('640');
  });
});

describe('parsePolicy: a malformed policy gets one precise line', () => {
  const cases: Array<[string, string, string]> = [
    [
      'a bad duration',
      `${HEAD}secrets:\n  dingtalk:\n    kind: dingtalk\n    rotate_every: ninety\n`,
      'secrets.yaml:6:19: secrets.dingtalk.rotate_every: expected a duration like 90d (units: s, min, h, d, w, m for months, y), got "ninety"',
    ],
    [
      'an unknown kind',
      `${HEAD}secrets:\n  db:\n    kind: mysql\n    rotate_every: 90d\n`,
      'secrets.yaml:5:11: secrets.db.kind: expected one of htpasswd, dingtalk, random, manual, postgres, redis, got "mysql"',
    ],
    [
      'a misspelt field',
      `${HEAD}secrets:\n  key:\n    kind: random\n    env_key: KEY\n    rotate_evry: 90d\n`,
      'secrets.yaml:7:5: secrets.key: unknown field "rotate_evry" (did you mean "rotate_every"?)',
    ],
    [
      'a misspelt top-level field (zod says "Invalid input" there: never shown as a suggestion)',
      `${HEAD}secrets: {}\nnotfy:\n  dingtalk: x\n`,
      'secrets.yaml:4:1: (top level): unknown field "notfy" (did you mean "notify"?)',
    ],
    [
      'an unknown top-level field like no known one',
      `${HEAD}secrets: {}\nfrobnicate: 1\n`,
      'secrets.yaml:4:1: (top level): unknown field "frobnicate" (check the spelling against policies/schema.json)',
    ],
    [
      'a missing required field',
      `${HEAD}secrets:\n  key:\n    kind: random\n    rotate_every: 90d\n`,
      'secrets.yaml:5:5: secrets.key.env_key: is required (expected string)',
    ],
    ['a wrong version', 'version: 2\ndeployment: demo\nsecrets: {}\n', 'secrets.yaml:1:10: version: expected 1, got 2'],
    [
      'a missing deployment',
      'version: 1\nsecrets: {}\n',
      'secrets.yaml:1:1: deployment: is required (expected string)',
    ],
    [
      'a mode without quotes',
      `${HEAD}secrets: {}\ncompliance:\n  modes: { .env: 600 }\n`,
      'secrets.yaml:5:18: compliance.modes..env: expected a string, got 600',
    ],
    [
      'a mode that is not octal',
      `${HEAD}secrets: {}\ncompliance:\n  modes: { .env: "955" }\n`,
      'secrets.yaml:5:18: compliance.modes..env: expected an octal file mode in quotes, like "600", got "955"',
    ],
    [
      'a bcrypt cost out of range',
      `${HEAD}secrets:\n  web:\n    kind: htpasswd\n    file: h\n    user: admin\n    bcrypt_cost: 40\n    rotate_every: 90d\n`,
      'secrets.yaml:8:18: secrets.web.bcrypt_cost: expected at most 15, got 40',
    ],
    [
      'a user with a colon',
      `${HEAD}secrets:\n  web:\n    kind: htpasswd\n    file: h\n    user: "ad:min"\n    rotate_every: 90d\n`,
      'secrets.yaml:7:11: secrets.web.user: expected a user name without ":" or line breaks, got "ad:min"',
    ],
    [
      'secrets as a list',
      `${HEAD}secrets:\n  - dingtalk\n`,
      'secrets.yaml:4:3: secrets: expected a record, got a list',
    ],
    [
      'notify naming a non-dingtalk secret',
      `${HEAD}secrets:\n  key:\n    kind: random\n    env_key: KEY\n    rotate_every: 90d\nnotify:\n  dingtalk: key\n`,
      'secrets.yaml:9:13: notify.dingtalk: expected the id of a dingtalk secret (key)',
    ],
    [
      'one env key managed twice',
      `${HEAD}secrets:\n  a:\n    kind: random\n    env_key: KEY\n    rotate_every: 90d\n  b:\n    kind: manual\n    env_key: KEY\n    rotate_every: 90d\n`,
      'secrets.yaml:9:5: secrets.b: env key KEY is already managed by a',
    ],
    ['a YAML syntax error', `${HEAD}secrets:\n  a: [unclosed\n`, 'secrets.yaml:5:1: not valid YAML'],
    [
      'a duplicate key',
      `${HEAD}deployment: again\nsecrets: {}\n`,
      'secrets.yaml:3:1: not valid YAML: Map keys must be unique',
    ],
    [
      'a document that is not a mapping',
      '- just\n- a list\n',
      'secrets.yaml:1:1: expected a mapping with version, deployment and secrets',
    ],
    [
      'a bad probe URL',
      `${HEAD}secrets:\n  web:\n    kind: htpasswd\n    file: h\n    user: admin\n    rotate_every: 90d\n    probe: { url: "not a url" }\n`,
      'secrets.yaml:9:19: secrets.web.probe.url: expected an http(s) URL, got "not a url"',
    ],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(errorOf(text)).toContain(expected);
  });
});

describe('parsePolicy: the fleet section', () => {
  const FLEET = `fleet:\n  etcd:\n    endpoints: [http://127.0.0.1:2379]\n  prefix: /secrets/app\n  host: api-1\n`;
  const JWT = (extra: string) =>
    `secrets:\n  jwt:\n    kind: random\n    env_key: JWT_SECRET\n    rotate_every: 90d\n${extra}`;

  it('reads it with its defaults, and shared: true on a random secret', () => {
    const policy = parsePolicy(`${HEAD}${FLEET}${JWT('    shared: true\n')}`, '/srv/app/secrets.yaml');
    expect(policy.doc.fleet).toMatchObject({
      prefix: '/secrets/app',
      host: 'api-1',
      apply_timeout: '2m',
      lock_ttl: '15s',
    });
    expect(policy.secrets[0]!.spec.shared).toBe(true);
  });
  it('refuses shared: true without a fleet section, at the field', () => {
    expect(errorOf(`${HEAD}${JWT('    shared: true\n')}`)).toMatch(
      /^\[policy-invalid\] secrets\.yaml:\d+:\d+: secrets\.jwt\.shared: shared: true needs the policy's fleet: section/,
    );
  });
  it('refuses shared: true on a kind that changes a server', () => {
    const redis = `secrets:\n  cache:\n    kind: redis\n    url_key: REDIS_URL\n    rotate_every: 90d\n    shared: true\n`;
    expect(errorOf(`${HEAD}${FLEET}${redis}`)).toMatch(
      /secrets\.cache\.shared: a redis secret cannot be shared across hosts in this version \(shared kinds: dingtalk, random, manual\)/,
    );
  });
  it('refuses an endpoint that is not scheme://host:port, naming its line', () => {
    const bad = FLEET.replace('http://127.0.0.1:2379', 'http://user:pw@127.0.0.1:2379/v3');
    expect(errorOf(`${HEAD}${bad}${JWT('')}`)).toMatch(
      /secrets\.yaml:5:\d+: fleet\.etcd\.endpoints\.0: expected an etcd endpoint/,
    );
  });
  it('refuses a user without password_env, and a host name with a slash', () => {
    expect(errorOf(`${HEAD}${FLEET.replace('    endpoints', '    user: bot\n    endpoints')}${JWT('')}`)).toMatch(
      /fleet\.etcd\.user: etcd authentication needs both user and password_env/,
    );
    expect(errorOf(`${HEAD}${FLEET.replace('api-1', 'api/1')}${JWT('')}`)).toMatch(/fleet\.host: expected a host name/);
  });
});
