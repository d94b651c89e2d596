import { describe, expect, it } from 'vitest';
import { bytesFor, classifyEntry, classifyEnv, randomEncodingOf } from '../../src/core/env-classifier.js';
import { encodedLength } from '../../src/core/checks/compliance.js';
import { fakeAlnum, fakeDingtalkSecret, fakeDingtalkUrl, fakeHex } from '../helpers/fake-secrets.js';

/** Values built at run time from parts (CONTRIBUTING.md): no whole secret-shaped literal in the repository. */
const base64url = (length: number) => fakeAlnum(length - 5) + 'aA1-_';
const base64 = (length: number) => fakeAlnum(length - 6) + 'aA1+/=';
const anthropicKey = () => ['sk', 'ant', 'api03'].join('-') + '-' + base64url(40);
const openaiKey = () => ['sk', 'proj'].join('-') + '-' + fakeAlnum(48);

describe('classifyEntry', () => {
  const table: Array<[string, string, () => string, Record<string, unknown> | undefined]> = [
    [
      '64 hex under *_SECRET_KEY is random, 32 bytes hex',
      'JWT_SECRET_KEY',
      () => fakeHex(64),
      { kind: 'random', bytes: 32, encoding: 'hex' },
    ],
    ['96 hex is 48 bytes', 'SECRET_KEY', () => fakeHex(96), { kind: 'random', bytes: 48, encoding: 'hex' }],
    [
      'base64url keeps its encoding',
      'SESSION_SECRET',
      () => base64url(64),
      { kind: 'random', bytes: 48, encoding: 'base64url' },
    ],
    ['base64 keeps its encoding', 'APP_KEY', () => base64(44), { kind: 'random', encoding: 'base64' }],
    ['mixed alphanumeric', 'COOKIE_SECRET', () => `${fakeAlnum(37)}aA1`, { kind: 'random', encoding: 'alphanumeric' }],
    [
      'an empty secret is random with the default size',
      'SECRET_KEY',
      () => '',
      { kind: 'random', bytes: 32, encoding: 'hex' },
    ],
    [
      'a placeholder secret is random with the default size',
      'SECRET_KEY',
      () => 'change-in-production',
      { kind: 'random', bytes: 32 },
    ],
    [
      'a typed phrase under *SECRET* is tracked, not generated',
      'APP_SECRET',
      () => 'correct-horse-battery',
      { kind: 'manual', category: 'unknown-shape' },
    ],
    ['Anthropic key by value is manual', 'ANTHROPIC_API_KEY', anthropicKey, { kind: 'manual', category: 'api-key' }],
    ['OpenAI key by value, whatever the name', 'LLM_SECRET', openaiKey, { kind: 'manual', category: 'api-key' }],
    [
      '*API_KEY* by name is manual even when random',
      'SOME_API_KEY',
      () => fakeHex(64),
      { kind: 'manual', category: 'api-key' },
    ],
    [
      'a wallet key is manual with min_length 64',
      'WALLET_PRIVATE_KEY',
      () => `0x${fakeHex(64)}`,
      { kind: 'manual', category: 'wallet-key', minLength: 64 },
    ],
    ['*_PASSWORD is manual', 'POSTGRES_PASSWORD', () => fakeAlnum(20), { kind: 'manual', category: 'password' }],
    [
      'another scheme with user:pass@ is a credential URL',
      'AMQP_URL',
      () => `amqp://bot:${fakeAlnum(20)}@mq:5672/`,
      { kind: 'manual', category: 'credential-url' },
    ],
    ['a URL without credentials is not a secret', 'DASHBOARD_PUBLIC_URL', () => 'https://dash.example.org/', undefined],
    ['an ordinary setting is not a secret', 'LOG_LEVEL', () => 'info', undefined],
    ['a *_KEY_PREFIX is not a secret', 'REDIS_KEY_PREFIX', () => 'bot:', undefined],
  ];
  it.each([
    ['DATABASE_URL', () => `postgresql://bot:${fakeAlnum(20)}@db:5432/bot`, 'postgres'],
    ['PG_URL', () => `postgres://bot:${fakeAlnum(20)}@db/bot?sslmode=require`, 'postgres'],
    ['REDIS_URL', () => `redis://:${fakeAlnum(20)}@redis:6379/0`, 'redis'],
    ['CACHE_URL', () => `rediss://app:${fakeAlnum(20)}@cache:6380/1`, 'redis'],
  ])('%s with a password is proposed as the %s kind', (key, makeValue, kind) => {
    expect(classifyEntry(key, makeValue())).toMatchObject({ kind, urlKey: key });
  });
  it.each(['POSTGRES_PASSWORD', 'REDIS_PASSWORD'])('%s alone is tracked, with the kind to move to', (key) => {
    const result = classifyEntry(key, fakeAlnum(20));
    expect(result).toMatchObject({ kind: 'manual', category: 'password' });
    expect(result?.reason).toMatch(key.startsWith('REDIS') ? /redis kind .*REDIS_URL/ : /postgres kind .*DATABASE_URL/);
  });
  for (const [name, key, makeValue, expected] of table) {
    it(name, () => {
      const result = classifyEntry(key, makeValue());
      if (expected === undefined) expect(result).toBeUndefined();
      else expect(result).toMatchObject({ envKey: key, ...expected });
    });
  }

  it('never puts the value in the reason', () => {
    const value = fakeHex(64);
    expect(JSON.stringify(classifyEntry('SECRET_KEY', value))).not.toContain(value);
  });
});

describe('randomEncodingOf and bytesFor', () => {
  it('rejects short, low-entropy and human values', () => {
    expect(randomEncodingOf(fakeHex(12))).toBeUndefined();
    expect(randomEncodingOf('a'.repeat(64))).toBeUndefined();
    expect(randomEncodingOf('thisisalongpassphrase')).toBeUndefined();
  });
  it('chooses a byte count whose encoding the current value satisfies', () => {
    for (const encoding of ['hex', 'base64', 'base64url', 'alphanumeric'] as const) {
      for (const length of [22, 32, 43, 44, 64, 86, 128]) {
        const bytes = bytesFor(length, encoding);
        expect(bytes).toBeGreaterThanOrEqual(16);
        if (bytes > 16) expect(encodedLength(bytes, encoding), `${encoding} ${length}`).toBeLessThanOrEqual(length);
      }
    }
  });
});

describe('classifyEnv', () => {
  it('pairs the DingTalk URL and secret by name', () => {
    const proposals = classifyEnv([
      { key: 'DINGTALK_WEBHOOK_URL', value: fakeDingtalkUrl() },
      { key: 'DINGTALK_SECRET', value: fakeDingtalkSecret() },
      { key: 'LOG_LEVEL', value: 'info' },
    ]);
    expect(proposals).toEqual([
      expect.objectContaining({
        id: 'dingtalk',
        kind: 'dingtalk',
        urlKey: 'DINGTALK_WEBHOOK_URL',
        secretKey: 'DINGTALK_SECRET',
      }),
    ]);
  });

  it('pairs a robot found by value shape under other names', () => {
    const proposals = classifyEnv([
      { key: 'ALERT_HOOK', value: fakeDingtalkUrl() },
      { key: 'ALERT_SIGN', value: fakeDingtalkSecret() },
    ]);
    expect(proposals).toEqual([
      expect.objectContaining({ kind: 'dingtalk', urlKey: 'ALERT_HOOK', secretKey: 'ALERT_SIGN' }),
    ]);
  });

  it('pairs two robots by their common prefix', () => {
    const proposals = classifyEnv([
      { key: 'RISK_DINGTALK_WEBHOOK_URL', value: fakeDingtalkUrl() },
      { key: 'OPS_DINGTALK_WEBHOOK_URL', value: fakeDingtalkUrl() },
      { key: 'OPS_DINGTALK_SECRET', value: fakeDingtalkSecret() },
      { key: 'RISK_DINGTALK_SECRET', value: fakeDingtalkSecret() },
    ]);
    expect(
      proposals.map((proposal) => proposal.kind === 'dingtalk' && [proposal.id, proposal.urlKey, proposal.secretKey]),
    ).toEqual([
      ['risk-dingtalk', 'RISK_DINGTALK_WEBHOOK_URL', 'RISK_DINGTALK_SECRET'],
      ['ops-dingtalk', 'OPS_DINGTALK_WEBHOOK_URL', 'OPS_DINGTALK_SECRET'],
    ]);
  });

  it('proposes the trading-bot secrets with the kinds of policies/trading-bot.yaml', () => {
    const proposals = classifyEnv([
      { key: 'SECRET_KEY', value: fakeHex(64) },
      { key: 'JWT_SECRET_KEY', value: base64url(64) },
      { key: 'ANTHROPIC_API_KEY', value: anthropicKey() },
      { key: 'OPENAI_API_KEY', value: openaiKey() },
      { key: 'WALLET_PRIVATE_KEY', value: fakeHex(64) },
      { key: 'DATABASE_URL', value: `postgresql://bot:${fakeAlnum(24)}@db:5432/bot` },
      { key: 'REDIS_URL', value: `redis://:${fakeAlnum(24)}@redis:6379/0` },
      { key: 'PORT', value: '8000' },
    ]);
    expect(proposals.map((proposal) => [proposal.id, proposal.kind])).toEqual([
      ['secret-key', 'random'],
      ['jwt-secret-key', 'random'],
      ['anthropic-api-key', 'manual'],
      ['openai-api-key', 'manual'],
      ['wallet-private-key', 'manual'],
      ['database-url', 'postgres'],
      ['redis-url', 'redis'],
    ]);
  });

  it('takes the last of a key set twice, once', () => {
    const proposals = classifyEnv([
      { key: 'SECRET_KEY', value: '' },
      { key: 'SECRET_KEY', value: fakeHex(64) },
    ]);
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ kind: 'random', bytes: 32 });
  });
});
