import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rollBack, swapFiles } from '../../../src/services/rotation/transaction.js';
import { testDeps } from '../../helpers/deps.js';
import { fakeAlnum } from '../../helpers/fake-secrets.js';
import { deploymentWithEnv } from '../../helpers/rotation.js';

describe('swapFiles and rollBack', () => {
  it('writes with the mode a kind asks for, and rolls back content and mode; a file it created is removed', async () => {
    const oldLine = `admin:${fakeAlnum(20)}\n`;
    const { deployment, policy } = await deploymentWithEnv(
      'A=1\n',
      {},
      { files: { '.htpasswd': { content: oldLine, mode: 0o600 } } },
    );
    const deps = testDeps();
    const journal = await swapFiles(
      {
        policy,
        rotation: 'r1',
        secret: 'dashboard',
        kind: 'htpasswd',
        changes: [
          { path: deployment.path('.htpasswd'), content: `admin:${fakeAlnum(20)}\n`, mode: 0o640 },
          { path: deployment.path('new-file'), content: 'x\n' },
        ],
        hooks: [],
        hookTimeout: '5s',
      },
      deps,
    );
    expect(statSync(deployment.path('.htpasswd')).mode & 0o777).toBe(0o640);
    expect(journal.phase).toBe('hooks');
    // The copies of previous content are mode 600 inside the 700 state folder.
    expect(statSync(deployment.path('.secrets/rotation/previous-0')).mode & 0o777).toBe(0o600);
    expect(statSync(deployment.path('.secrets')).mode & 0o777).toBe(0o700);
    expect(readFileSync(deployment.path('.secrets/rotation/journal.json'), 'utf8')).not.toContain(oldLine.trim());

    await rollBack(policy, journal, deps);
    expect(readFileSync(deployment.path('.htpasswd'), 'utf8')).toBe(oldLine);
    expect(statSync(deployment.path('.htpasswd')).mode & 0o777).toBe(0o600);
    expect(existsSync(deployment.path('new-file'))).toBe(false);
    expect(readdirSync(deployment.path('.secrets/rotation'))).toEqual([]);
  });
});
