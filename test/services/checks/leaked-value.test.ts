import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScanSources } from '../../../src/adapters/scan-sources.js';
import { runCheck } from '../../../src/services/check.js';
import { findLeakedValues, LEAK_STATE_FILE } from '../../../src/services/checks/leaked-value.js';
import { makeCleanDeployment } from '../../helpers/clean-deployment.js';
import { commitFiles } from '../../helpers/git-repo.js';
import { testDeps } from '../../helpers/deps.js';

const scanSources = createScanSources();

describe('leaked-value check', () => {
  it('is silent on a clean deployment and remembers what it searched', async () => {
    const deployment = await makeCleanDeployment();
    const deps = { ...testDeps({ now: new Date('2026-11-24T00:00:00Z') }), scanSources: async () => scanSources };
    const outcome = await runCheck({ policy: deployment.policy, now: new Date('2026-11-24T00:00:00Z') }, deps);
    expect(outcome.findings.filter((finding) => finding.check === 'leaked-value')).toEqual([]);
    const state = JSON.parse(readFileSync(join(deployment.policy.stateDir, LEAK_STATE_FILE), 'utf8'));
    expect(state.scannedTips.length).toBeGreaterThan(0);
    expect(JSON.stringify(state)).not.toContain(deployment.values.jwt);
  });

  it('does not call the un-ignored .env a leak of itself (the gitignore check warns about it instead)', async () => {
    const deployment = await makeCleanDeployment();
    writeFileSync(deployment.path('.gitignore'), '.secrets/\n');
    const deps = { ...testDeps({ now: new Date('2026-11-24T00:00:00Z') }), scanSources: async () => scanSources };
    const outcome = await runCheck({ policy: deployment.policy, now: new Date('2026-11-24T00:00:00Z') }, deps);
    expect(outcome.findings.filter((finding) => finding.check === 'leaked-value')).toEqual([]);
    expect(outcome.findings.filter((finding) => finding.check === 'gitignore').length).toBeGreaterThan(0);
    writeFileSync(deployment.path('notes.txt'), `copied for debugging: ${deployment.values.jwt}\n`);
    const leaked = await runCheck({ policy: deployment.policy, now: new Date('2026-11-24T00:00:00Z') }, deps);
    expect(
      leaked.findings.filter((finding) => finding.check === 'leaked-value').map((finding) => finding.path),
    ).toEqual([expect.stringContaining('notes.txt')]);
  });

  it('reports a managed value committed and then removed, critical, without the value, and keeps reporting it incrementally', async () => {
    const deployment = await makeCleanDeployment();
    commitFiles(deployment.root, { 'notes.md': `jwt for staging: ${deployment.values.jwt}\n` }, 'oops');
    commitFiles(deployment.root, { 'notes.md': 'moved to the vault\n' }, 'remove it');
    const deps = { ...testDeps({ now: new Date('2026-11-24T00:00:00Z') }), scanSources: async () => scanSources };
    const first = await runCheck({ policy: deployment.policy, now: new Date('2026-11-24T00:00:00Z') }, deps);
    const leaks = first.findings.filter((finding) => finding.check === 'leaked-value');
    expect(leaks).toHaveLength(1);
    expect(leaks[0]).toMatchObject({ severity: 'critical', secret: 'jwt-secret', path: 'notes.md' });
    expect(leaks[0]!.message).not.toContain(deployment.values.jwt);
    expect(first.status).toBe('critical');

    // Second run: no ref moved, so history is not read again; the leak is still reported.
    const counted: string[][] = [];
    const counting = {
      ...scanSources,
      history: (
        root: string,
        commits: string[],
        ...rest: Parameters<typeof scanSources.history> extends [unknown, unknown, ...infer R] ? R : never
      ) => {
        counted.push(commits);
        return scanSources.history(root, commits, ...rest);
      },
    };
    const again = await findLeakedValues(deployment.policy, { files: deps.files, scanSources: counting });
    expect(counted).toEqual([]);
    expect(again.map((leak) => [leak.secret, leak.file])).toEqual([['jwt-secret', 'notes.md']]);

    // A rotation (new value) starts over: the old value's leak is history.
    writeFileSync(
      deployment.path('.env'),
      readFileSync(deployment.path('.env'), 'utf8').replace(deployment.values.jwt, 'b'.repeat(31) + 'c'),
    );
    expect(await findLeakedValues(deployment.policy, { files: deps.files, scanSources })).toEqual([]);
    expect(existsSync(join(deployment.policy.stateDir, LEAK_STATE_FILE))).toBe(true);
  });
});
