import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KINDS, kindNamed, parsePolicy } from '../../src/kinds/index.js';
import { HANDLERS, handlerFor } from '../../src/kinds/rotations.js';
import { isSecretsError } from '../../src/core/errors.js';

const KINDS_DIR = resolve(__dirname, '..', '..', 'src', 'kinds');
const folders = readdirSync(KINDS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('the registry of kinds', () => {
  it('lists every folder of src/kinds/ once, under the folder name', () => {
    expect(KINDS.map((kind) => kind.name).sort()).toEqual([...folders].sort());
  });
  it('has a rotation handler for every kind, for that kind', () => {
    for (const kind of KINDS) expect(HANDLERS[kind.name]?.kind, kind.name).toBe(kind.name);
    expect(Object.keys(HANDLERS).sort()).toEqual(KINDS.map((kind) => kind.name).sort());
  });
  it('finds a kind by name and refuses one it does not know', () => {
    expect(kindNamed('random').name).toBe('random');
    let error: unknown;
    try {
      kindNamed('postgres-typo');
    } catch (caught) {
      error = caught;
    }
    expect(isSecretsError(error) && error.code).toBe('kind-unsupported');
  });
  it('builds the policy schema from the kinds: an unknown kind is named with the known ones', () => {
    const text = 'version: 1\ndeployment: app\nsecrets:\n  db:\n    kind: postgress\n    rotate_every: 90d\n';
    expect(() => parsePolicy(text, '/srv/secrets.yaml')).toThrow(
      /secrets\.db\.kind: expected one of htpasswd, dingtalk, random, manual, postgres, redis, got "postgress"/,
    );
  });
  it('a secret whose kind has no handler fails alone with nothing to rotate', async () => {
    const handler = handlerFor({
      kind: 'not-a-kind',
      rotate_every: '90d',
      warn_before: '14d',
      after_change: [],
      hook_timeout: '60s',
      steps: [],
    });
    expect(handler.outline({} as never, {} as never).source).toMatch(/not available in this version/);
  });
  it('keeps each kind in a folder of its own', () => {
    for (const name of folders) expect(readdirSync(join(KINDS_DIR, name))).toContain('index.ts');
  });
});
